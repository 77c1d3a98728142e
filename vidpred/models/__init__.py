"""Networks: the multi-scale generator and discriminator, and their pyramid plumbing."""

from vidpred.models._pyramid import downsample, pyramid, upsample2x
from vidpred.models.discriminator import MultiScaleDiscriminator
from vidpred.models.generator import MultiScaleGenerator

__all__ = ["MultiScaleGenerator", "MultiScaleDiscriminator", "downsample", "pyramid", "upsample2x"]

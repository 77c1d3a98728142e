"""Networks: the multi-scale generator and discriminators, and their pyramid plumbing.

The frozen ImageNet networks of the perceptual losses live in
``vidpred.models.perceptual_networks`` (not imported here: it pulls in torchvision).
"""

from vidpred.models._pyramid import downsample, pyramid, upsample2x
from vidpred.models.blur_discriminator import BlurDiscriminator
from vidpred.models.discriminator import MultiScaleDiscriminator
from vidpred.models.generator import MultiScaleGenerator
from vidpred.models.spatiotemporal_discriminator import SpatioTemporalDiscriminator

__all__ = [
    "BlurDiscriminator",
    "MultiScaleDiscriminator",
    "MultiScaleGenerator",
    "SpatioTemporalDiscriminator",
    "downsample",
    "pyramid",
    "upsample2x",
]

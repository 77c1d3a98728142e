"""vidpred: adversarial video prediction (Mathieu, Couprie & LeCun, ICLR 2016) and beyond."""

__version__ = "0.1.0"

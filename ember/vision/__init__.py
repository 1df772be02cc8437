"""ember.vision: image datasets and transforms, in torchvision's shape.

``from ember.vision import datasets, transforms`` reads like torchvision's imports; code
written for torchvision (MNIST + ToTensor + Normalize + DataLoader) runs on ember unchanged
once the imports point here.
"""

from . import datasets, transforms, utils

__all__ = ["datasets", "transforms", "utils"]

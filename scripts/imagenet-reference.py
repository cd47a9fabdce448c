"""Reference statistics of torchvision's ImageNet eval transform, for test/eval/preprocess.test.ts.

    /usr/bin/python3 scripts/imagenet-reference.py > fixtures/preprocess/imagenet-reference.json

Transform: Resize(256) -> CenterCrop(224) -> ToTensor -> Normalize(ImageNet mean, std), run
(a) on PIL images (the usual torchvision pipeline; PIL rounds to 8 bits after resizing) and
(b) on float tensors with antialias=True. Inputs: fixtures/photos/chelsea.png (192x192, an upscale),
and that photo tiled 2 down x 3 across (384x576, a non-square downscale).
Written with torch 1.13 / torchvision 0.14.
"""
import json
import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import transforms as T
import torchvision.transforms.functional as F

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
POINTS = [(0, 0), (0, 223), (223, 0), (223, 223), (111, 112), (50, 170), (170, 50), (7, 99)]


def stats(x):
    x = x.detach().double()
    return {
        "shape": list(x.shape),
        "mean": [float(v) for v in x.mean(dim=(1, 2))],
        "std": [float(v) for v in x.std(dim=(1, 2), unbiased=False)],
        "samples": [[float(x[c, y, xx]) for c in range(3)] for (y, xx) in POINTS],
    }


def main():
    rgb = np.asarray(Image.open("fixtures/photos/chelsea.png").convert("RGB"))
    images = {"chelsea": rgb, "chelsea-tiled-2x3": np.tile(rgb, (2, 3, 1))}
    pil_t = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)])
    out = {"torch": torch.__version__, "torchvision": torchvision.__version__, "points": POINTS, "images": {}}
    for name, arr in images.items():
        pil = pil_t(Image.fromarray(arr))
        t = torch.from_numpy(arr.copy()).permute(2, 0, 1).float()
        t = F.resize(t, 256, interpolation=T.InterpolationMode.BILINEAR, antialias=True)
        t = F.center_crop(t, 224) / 255.0
        t = F.normalize(t, MEAN, STD)
        out["images"][name] = {"size": list(arr.shape[:2]), "pil": stats(pil), "tensorAntialias": stats(t)}
    print(json.dumps(out, indent=1))


main()

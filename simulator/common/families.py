"""Model families: the reference configuration of each kind of network a workload draws jobs from.

Why in the common layer: the scenario schema checks a workload's mix against these names, the workload
builder and the trace readers fill a job's metadata (params, FLOPs, batch, input and dataset size) from them,
and every power model is fitted or calibrated at them. They describe networks, not power: a power model's own
constants (:mod:`forecasters.power.analytic`) are kept beside that model.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelFamily:
    """One family's reference job: what a typical training run of that network looks like."""

    params: float
    flops_per_sample: float  # forward FLOPs per sample at the reference size
    batch_size: int  # per GPU
    size: int  # image side in pixels, or sequence length in tokens
    dataset_size: int  # samples per epoch
    size_exponent: float  # 2 for images (pixels), 1 for sequences (tokens)


FAMILIES: dict[str, ModelFamily] = {
    # ViT-B/16 on ImageNet-1k (86.6 M params, 17.6 GFLOPs at 224 px)
    "vit": ModelFamily(86.6e6, 17.6e9, 64, 224, 1_281_167, 2.0),
    # BERT-base fine-tuning on SQuAD v1.1 (110 M params, 2 x params x 384 tokens forward)
    "bert": ModelFamily(110e6, 2 * 110e6 * 384, 32, 384, 88_641, 1.0),
    # ResNet-50 on ImageNet (25.6 M, 4.1 GFLOPs)
    "resnet": ModelFamily(25.6e6, 4.1e9, 128, 224, 1_281_167, 2.0),
    # VGG-16 on ImageNet (138 M, 15.5 GFLOPs)
    "vgg": ModelFamily(138e6, 15.5e9, 64, 224, 1_281_167, 2.0),
    # MobileNetV2 on ImageNet (3.5 M, 0.3 GFLOPs)
    "mobilenet": ModelFamily(3.5e6, 0.3e9, 256, 224, 1_281_167, 2.0),
    # GPT-style decoder, 7 B params, 2048-token sequences; an "epoch" is one checkpoint interval (200 k
    # sequences on 64 GPUs)
    "gpt": ModelFamily(7e9, 2 * 7e9 * 2048, 8, 2048, 200_000, 1.0),
}

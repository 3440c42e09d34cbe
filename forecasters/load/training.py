"""What every torch-trained forecaster shares: input scaling, tensors from windows, a deterministic loop.

Determinism: one seed sets torch's generator and a numpy Generator that orders the batches; torch runs with
``use_deterministic_algorithms`` and a fixed thread count, so the same seed gives the same weights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from forecasters.load.base import Windows

LEVEL = 0.5
"""Per-unit loads sit in 0.2..1; inputs subtract this so they centre near zero."""


@dataclass(frozen=True)
class TrainSettings:
    """Adam, mini-batches drawn without replacement, the best validation epoch kept."""

    epochs: int = 4
    batches_per_epoch: int = 100
    batch_size: int = 256
    learning_rate: float = 1e-3
    seed: int = 0
    threads: int = 1


def residual_scale(windows: Windows) -> float:
    """The spread of the one-step residual over the reference: the unit in which models learn."""
    residual = windows.target[:, 0] - windows.reference(1)[:, 0]
    return float(max(np.std(residual), 1e-4))


def sequence_inputs(windows: Windows, scale: float, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """``seq`` (N, 2, L): history minus its last value (scaled) and the history level; ``extra`` (N, E)."""
    last = windows.last[:, None]
    seq = np.stack([(windows.history - last) / scale, windows.history - LEVEL], axis=1)
    parts = [last - LEVEL, windows.time_features()]
    if windows.known is not None:
        parts.append((windows.known[:, :horizon] - last) / scale)
    return seq.astype(np.float32), np.concatenate(parts, axis=1).astype(np.float32)


@contextmanager
def deterministic(seed: int, threads: int) -> Iterator[None]:
    import torch

    previous = (torch.are_deterministic_algorithms_enabled(), torch.get_num_threads())
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0])
        torch.set_num_threads(previous[1])


def train_loop(module, loss_of: Callable[[np.ndarray], object], n_train: int, val_loss: Callable[[], float],
               settings: TrainSettings) -> list[float]:
    """Minimise ``loss_of(rows)`` over mini-batches; restore the weights of the best validation epoch.

    Returns the validation loss after each epoch (the training curve a benchmark reports).
    """
    import torch

    rng = np.random.default_rng(settings.seed)
    optimiser = torch.optim.Adam([p for p in module.parameters() if p.requires_grad], lr=settings.learning_rate)
    best, best_state, history = np.inf, None, []
    for _ in range(settings.epochs):
        module.train()
        order = rng.permutation(n_train)
        for b in range(min(settings.batches_per_epoch, -(-n_train // settings.batch_size))):
            rows = order[b * settings.batch_size : (b + 1) * settings.batch_size]
            optimiser.zero_grad()
            loss = loss_of(rows)
            loss.backward()
            optimiser.step()
        module.eval()
        with torch.no_grad():
            current = float(val_loss())
        history.append(current)
        if current < best:
            best = current
            best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    return history


def state_arrays(module, prefix: str = "") -> dict[str, np.ndarray]:
    return {prefix + k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}


def load_state(module, arrays: dict[str, np.ndarray], prefix: str = "") -> None:
    import torch

    module.load_state_dict({k[len(prefix):]: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()
                            if k.startswith(prefix)})
    module.eval()


def in_batches(n: int, size: int = 8192) -> Iterator[slice]:
    for a in range(0, n, size):
        yield slice(a, min(a + size, n))

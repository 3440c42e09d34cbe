"""The torch modules: TCN teacher, point-wise MLP student, LSTM/GRU baselines. Training only; see ``training``.

Inputs are already scaled (see :func:`forecasters.load.training.sequence_inputs`): ``seq`` (B, 2, L) holds the
history minus its last value and the history itself; ``extra`` (B, E) holds the last value, the time of day
and the known load minus the last value. Every module predicts scaled residuals over the reference.
"""

from __future__ import annotations

import torch
from torch import nn


class CausalBlock(nn.Module):
    """Two dilated causal convolutions with a residual path, as in Bai et al. (2018)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int):
        super().__init__()
        self.pad = (kernel - 1) * dilation
        self.conv1 = nn.Conv1d(c_in, c_out, kernel, dilation=dilation)
        self.conv2 = nn.Conv1d(c_out, c_out, kernel, dilation=dilation)
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.conv1(nn.functional.pad(x, (self.pad, 0))))
        y = torch.relu(self.conv2(nn.functional.pad(y, (self.pad, 0))))
        return torch.relu(y + self.skip(x))


class TCN(nn.Module):
    """The teacher: dilated causal convolutions over the history, a linear head for all H steps at once.

    Returns the residual forecast and the hidden sequence (B, C, L), whose time mean is what the student's
    representation is aligned with.
    """

    def __init__(self, extra: int, horizon: int, channels: int = 64, levels: int = 6, kernel: int = 3):
        super().__init__()
        self.blocks = nn.Sequential(*[CausalBlock(2 if i == 0 else channels, channels, kernel, 2**i)
                                      for i in range(levels)])
        self.head = nn.Sequential(nn.Linear(channels + extra, channels), nn.ReLU(), nn.Linear(channels, horizon))

    def forward(self, seq: torch.Tensor, extra: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.blocks(seq)
        return self.head(torch.cat([hidden[:, :, -1], extra], dim=1)), hidden


class Recurrent(nn.Module):
    """LSTM or GRU baseline: the last hidden state and the extras through a linear head, H steps at once."""

    def __init__(self, cell: str, extra: int, horizon: int, hidden: int = 64, layers: int = 2):
        super().__init__()
        self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell](2, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden + extra, horizon)

    def forward(self, seq: torch.Tensor, extra: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out, _ = self.rnn(seq.transpose(1, 2))
        return self.head(torch.cat([out[:, -1], extra], dim=1)), out.transpose(1, 2)


class StudentMLP(nn.Module):
    """The point-wise student: one step ahead from a short recent window; ``project`` maps its last hidden
    layer to the teacher's width for representation alignment (used in training only, not shipped)."""

    def __init__(self, inputs: int, hidden: int = 32, layers: int = 2, teacher_width: int = 64):
        super().__init__()
        sizes = [inputs] + [hidden] * layers
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.out = nn.Linear(hidden, 1)
        self.project = nn.Linear(hidden, teacher_width)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for layer in self.layers:
            x = torch.relu(layer(x))
        return self.out(x)[:, 0], x

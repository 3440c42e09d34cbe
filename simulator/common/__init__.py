"""The common layer: what every other room may import, and which imports nothing of dcsim's own.

Holds the user-facing error type, atomic file writes, the GPU catalog (datasheet values), the model families
(reference jobs of each network), and job records (square-wave columns and energy). It is what
:mod:`forecasters` shares with the simulator, so the forecasters never need the simulator above it.
"""

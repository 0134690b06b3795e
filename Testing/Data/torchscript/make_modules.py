"""Writes the tiny TorchScript modules of the engine tests (python3-torch 1.13)."""
import torch


class BadShape(torch.nn.Module):
    def forward(self, x):
        return x.sum(1)  # [B,H,W]: not an embedding


class BadLogits(torch.nn.Module):
    def forward(self, x):
        e = x.mean(dim=(2, 3))
        return e, x.sum(1)  # logits of the wrong rank


class MeanColour(torch.nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3))  # [B,3] embedding, no head


for name, cls in [("bad_output_shape.pt", BadShape), ("bad_logits_shape.pt", BadLogits),
                  ("mean_colour.pt", MeanColour)]:
    torch.jit.script(cls()).save(name)

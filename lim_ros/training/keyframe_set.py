"""The frozen LRM's outputs at every instant of a set of sequences, computed once."""

from dataclasses import dataclass

from lim_ros.models.lrm import LRM, LRMOutput
import torch


@dataclass(frozen=True)
class KeyframeSet:
    """LRM outputs of N sequences of T instants, float16 on the CPU (a 64² tiny one: 0.8 MB)."""

    planes: torch.Tensor  # (N, T, 3, C, n, n)
    features: torch.Tensor  # (N, T, 3·R·R, D)

    def __len__(self) -> int:
        """Return the number of sequences N."""
        return self.planes.shape[0]

    @staticmethod
    @torch.no_grad()
    def compute(lrm: LRM, rgb: torch.Tensor, K: torch.Tensor, world_T_cam: torch.Tensor,
                input_views: int, device: torch.device, chunk: int = 32) -> 'KeyframeSet':
        """
        Run ``lrm`` on the first ``input_views`` views of every instant.

        rgb (N, T, V, 3, H, W) in [0, 1] (any float dtype); K (N, V, 3, 3) and camera-to-world
        poses (N, V, 4, 4) of each sequence's static rig.
        """
        n, t = rgb.shape[:2]
        views = slice(input_views)
        flat_rgb = rgb[:, :, views].flatten(0, 1)
        flat_K = K[:, None, views].expand(-1, t, -1, -1, -1).flatten(0, 1)
        flat_pose = world_T_cam[:, None, views].expand(-1, t, -1, -1, -1).flatten(0, 1)
        planes, features = [], []
        for i in range(0, n * t, chunk):
            part = slice(i, i + chunk)
            out = lrm(flat_rgb[part].float().to(device), flat_K[part].float().to(device),
                      flat_pose[part].float().to(device))
            planes.append(out.planes.half().cpu())
            features.append(out.features.half().cpu())
        return KeyframeSet(torch.cat(planes).unflatten(0, (n, t)),
                           torch.cat(features).unflatten(0, (n, t)))

    def at(self, index: torch.Tensor, instant: int, device: torch.device) -> LRMOutput:
        """Return the outputs of sequences ``index`` (B,) at ``instant``, float32 on ``device``."""
        return LRMOutput(self.planes[index, instant].float().to(device),
                         self.features[index, instant].float().to(device))

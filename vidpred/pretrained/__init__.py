"""The model shipped with vidpred, used by ``scripts/predict.py`` when no checkpoint is given.

``refiner.pt`` is the refiner (``vidpred/models/refiner.py``: DIS optical flow refined by
a small U-Net; generator weights and config only), trained by ``configs/corpus_refiner.yaml``
on the real-video corpus and exported rolling out its later frames composed
(``model.generator.rollout``) with the camera's motion kept still in its followed candidate
(``model.generator.camera_still``), its last step's DIS flow refined at full size
(``model.generator.refine_flows``), cuts between scenes read in its context
(``model.generator.scene_cuts``), repeated frames taken out of it
(``model.generator.repeated_frames``), fades carried on (``model.generator.fades``), fades
to and from white as well as black (``model.generator.white_fades``), cross-dissolves carried
on (``model.generator.dissolves``), a
skipped frame's double step halved (``model.generator.skipped_frames``), and its followed
candidate kept off the flow DIS guesses where the scene enters the frame
(``model.generator.followed_inside``), and a step that one shift of the whole frame explains
not taken for a cut (``model.generator.pans_not_cuts``) but flowed again from that shift
(``model.generator.pan_flows``), as is a step under the cut line that the whole frame moves
by 8 px or more where that explains more of it (``model.generator.pan_restarts``), and its
still candidate moved with the camera where the camera moves 16 px a frame or more
(``model.generator.still_with_camera``); how, on what, and
its figures against every baseline are in
``docs/results.md``. ``real_flow.pt``
is the model shipped before it (the flow-head pyramid of ``configs/real_quickstart.yaml``),
kept for comparison. Both are ordinary vidpred checkpoints: every script that takes
``--checkpoint`` reads them, with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEFAULT_MODEL", "SHIPPED_DIR", "default_model_path"]

DEFAULT_MODEL = "refiner.pt"
SHIPPED_DIR = Path(__file__).parent  # the shipped models' folder


def default_model_path() -> Path:
    """Path of the shipped model.

    Raises:
        FileNotFoundError: the file is missing from this installation.
    """
    path = SHIPPED_DIR / DEFAULT_MODEL
    if not path.is_file():
        raise FileNotFoundError(f"the shipped model {path} is missing; reinstall vidpred or pass --checkpoint")
    return path

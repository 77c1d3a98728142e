"""Every shipped config resolves to the values recorded in tests/fixtures/resolved_configs.json.

The fixture pins what each file under configs/ means after bases, merging and defaults, so
rewriting a config (say, as a difference from another) cannot change a run by accident.
After an intended change, rewrite the fixture and commit it with the reason:

    PYTHONPATH=. python tests/test_shipped_configs.py

configs/corpus_refiner.yaml is left out: its values are still moving. The ablation configs
are also held to what they are for: a base and the few keys that differ from it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from vidpred.config import config_to_dict, load_config

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
FIXTURE = ROOT / "tests" / "fixtures" / "resolved_configs.json"
UNPINNED = {"corpus_refiner.yaml"}


def _shipped() -> list[str]:
    names = (p.relative_to(CONFIGS).as_posix() for p in CONFIGS.rglob("*.yaml"))
    return sorted(name for name in names if name not in UNPINNED)


def _resolved(name: str) -> dict:
    # Through JSON, so tuples compare equal to the lists the fixture holds.
    return json.loads(json.dumps(config_to_dict(load_config(CONFIGS / name))))


def _recorded() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def test_every_shipped_config_is_pinned():
    assert _shipped() == sorted(_recorded())


@pytest.mark.parametrize("name", _shipped())
def test_shipped_config_resolves_as_recorded(name):
    now, recorded = _flat(_resolved(name)), _flat(_recorded()[name])
    changed = {k: (recorded.get(k, "(absent)"), now.get(k, "(absent)")) for k in sorted(now.keys() | recorded.keys())
               if now.get(k, "(absent)") != recorded.get(k, "(absent)")}
    assert not changed, (f"{name} resolves otherwise than recorded (recorded -> now): {changed}. After adding, "
                         "removing or changing a default on purpose: PYTHONPATH=. python tests/test_shipped_configs.py")


def _flat(tree: dict, prefix: str = "") -> dict:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


@pytest.mark.parametrize("path", sorted((CONFIGS / "ablations").rglob("*.yaml")),
                         ids=lambda p: p.relative_to(CONFIGS).as_posix())
def test_ablation_configs_hold_only_their_difference(path):
    text = path.read_text(encoding="utf-8")
    assert "\nbase: " in text and len(text.splitlines()) <= 25


def write_fixture() -> None:
    resolved = {name: _resolved(name) for name in _shipped()}
    FIXTURE.write_text(json.dumps(resolved, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {FIXTURE.relative_to(ROOT)}: {len(resolved)} configs")


if __name__ == "__main__":
    sys.exit(write_fixture())

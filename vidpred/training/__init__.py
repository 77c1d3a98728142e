"""Training: the loop (trainer.py) and what a run keeps and writes beside it (docs/design.md, "Where things live")."""

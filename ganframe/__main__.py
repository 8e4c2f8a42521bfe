"""``python -m ganframe`` (also what ``torchrun -m ganframe run ...`` starts)."""

from ganframe.cli import main

if __name__ == "__main__":
    main()

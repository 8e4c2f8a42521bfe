"""Bad numbers, paths, data files and a full disk: each ends with one message and exit 1 or 2,
never a traceback, and a refused command creates nothing."""

from __future__ import annotations

import errno
import io
import struct

import pytest
import torch

from ganframe.config import RunConfig, validate
from ganframe.errors import UsageError
from tests.helpers import said
from tests.idx import make_mnist_root

RING = ["--dataset", "ring", "--dataset-option", "samples=640", "--device", "cpu", "--model", "mlp-small"]


def refused(result, code: int) -> str:
    """The message of a command that failed as a user error should: exit ``code``, no traceback."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # a message, not an exception
    assert "Traceback" not in result.output
    return said(result)


@pytest.mark.parametrize(
    "args, names",
    [
        (["--lr", "nan"], "--lr"),
        (["--lr", "inf"], "--lr"),
        (["--lr", "0"], "--lr"),
        (["--beta2", "nan"], "--beta2"),
        (["--g-ema", "inf"], "--g-ema"),
        (["--optimizer", "sgd", "--momentum", "-1"], "--momentum"),
        (["--momentum", "0.9"], "--optimizer sgd"),  # momentum without SGD would be ignored silently
        (["--seed", str(2**64)], "--seed"),
        (["--seed", "-1"], "--seed"),
        (["--dataset-option", "modes=0"], "modes"),
        (["--dataset-option", "std=nan"], "std=nan"),
        (["--loss", "bce-smooth", "--loss-option", "smooth=inf"], "smooth"),
    ],
)
def test_bad_numbers_are_refused_before_anything_is_created(cli, tmp_path, args, names):
    out = tmp_path / "run"
    message = refused(cli("run", *RING, "--max-steps", 2, "--out", out, *args), 2)
    assert names in message and args[-1].split("=")[-1] in message
    assert not out.exists()


def test_every_number_rule_names_its_option_for_nan():
    from ganframe.config import number_options

    assert len(number_options()) >= 14
    for name, opt in number_options():
        with pytest.raises(UsageError, match=rf"^{opt.name} must be .*got nan"):
            validate(RunConfig(**{name: float("nan")}))


def test_the_largest_seed_torch_accepts_trains_and_sample_refuses_bad_seeds_and_paths(cli, tmp_path):
    run = tmp_path / "run"
    result = cli("run", *RING, "--max-steps", 2, "--seed", 2**64 - 1, "--out", run)
    assert result.exit_code == 0, result.output
    (tmp_path / "some_file").write_text("x")
    for args, expected in (
        (["--seed", "-1"], "--seed"),
        (["--seed", str(2**64)], "--seed"),
        (["--out", tmp_path / "some_file" / "x.png"], "is a file, not a folder"),
        (["--out", "/proc/ganframe-test/x.png"], "cannot be written"),
    ):
        args = args if "--out" in args else [*args, "--out", tmp_path / "x.png"]
        assert expected in refused(cli("sample", run, *args), 2)
    assert cli("sample", run, "--seed", 2**64 - 1, "--out", tmp_path / "new" / "x.pt").exit_code == 0


def test_out_under_a_file_is_refused(cli, tmp_path):
    (tmp_path / "some_file").write_text("x")
    message = refused(cli("run", *RING, "--out", tmp_path / "some_file" / "sub"), 2)
    assert "is a file, not a folder" in message
    assert (tmp_path / "some_file").read_text() == "x"


def test_out_on_a_file_system_that_cannot_be_written_is_refused(cli):
    message = refused(cli("run", *RING, "--out", "/proc/ganframe-test/run"), 2)
    assert "cannot be written" in message and "/proc" in message


def test_unwritable_folder_is_found_by_writing_not_by_permission_bits(tmp_path, monkeypatch):
    """Root may write a 0555 folder and nobody a read-only mount, so the check writes a probe."""
    import tempfile

    from ganframe.run import disk

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(UsageError, match="read-only"):
        disk.check_output_folder(tmp_path / "new" / "run")
    assert not (tmp_path / "new").exists()


def _idx_root(tmp_path, mutate):
    root = make_mnist_root(tmp_path / "data")
    mutate(root / "MNIST" / "raw")
    return root


def _fewer_images(raw):
    path = raw / "train-images-idx3-ubyte"
    data = path.read_bytes()
    path.write_bytes(struct.pack(">IIII", 2051, 200, 28, 28) + data[16 : 16 + 200 * 784])


def _bad_magic(raw):
    path = raw / "train-images-idx3-ubyte"
    path.write_bytes(struct.pack(">I", 2049) + path.read_bytes()[4:])


def _label_out_of_range(raw):
    path = raw / "train-labels-idx1-ubyte"
    data = bytearray(path.read_bytes())
    data[8 + 17] = 200
    path.write_bytes(bytes(data))


def _truncated_labels(raw):
    path = raw / "train-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-10])


def _empty_images(raw):
    (raw / "train-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, 256, 0, 0))


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (_empty_images, "declares 256 x 0 x 0 values"),
        (_fewer_images, "holds 200 images but train-labels-idx1-ubyte holds 256 labels"),
        (_bad_magic, "magic number 0x00000801"),
        (_label_out_of_range, "label 200 at index 17"),
        (_truncated_labels, "train-labels-idx1-ubyte is 254 bytes long"),
    ],
)
def test_malformed_idx_files_are_named_when_the_data_loads(cli, tmp_path, mutate, expected):
    root = _idx_root(tmp_path, mutate)
    out = tmp_path / "run"
    message = refused(cli("run", "--model", "cgan", "--data-root", root, "--max-steps", 2, "--out", out), 1)
    assert expected in message and "train-" in message
    assert not out.exists()


def _full_disk_from_second_checkpoint(monkeypatch):
    """Checkpoint writes after the first fail as on a full disk: the handle refuses bytes, so torch's
    zip writer raises its own error on top of the OSError, as it does on a real full disk."""
    from ganframe.run import checkpoint

    real, written = checkpoint.atomic_write, []

    class Full(io.RawIOBase):
        def writable(self):
            return True

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    def atomic_write(path, write):
        if path.suffix == ".pt":
            written.append(path)
            if len(written) > 1:
                return real(path, lambda handle: write(Full()))
        return real(path, write)

    monkeypatch.setattr(checkpoint, "atomic_write", atomic_write)


def test_a_full_disk_mid_run_names_the_last_good_checkpoint_and_the_resume_command(cli, tmp_path, monkeypatch):
    _full_disk_from_second_checkpoint(monkeypatch)
    out = tmp_path / "run"
    message = refused(cli("run", *RING, "--epochs", 3, "--seed", 1, "--out", out), 1)
    first = out / "checkpoints" / "epoch-0001.pt"
    assert "the disk is full" in message and "OSError 28" in message
    assert str(first) in message and f"ganframe run --resume {out}" in message
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["epoch-0001.pt"]  # no temp file left
    assert torch.load(first, weights_only=True)["epoch"] == 1
    monkeypatch.undo()
    resumed = cli("run", "--resume", out)
    assert resumed.exit_code == 0, resumed.output
    assert sorted(p.name for p in (out / "checkpoints").iterdir())[-1] == "epoch-0003.pt"


def test_a_read_only_disk_is_found_behind_torchs_own_error_and_explained(tmp_path):
    from types import SimpleNamespace

    from ganframe.run.disk import disk_failure, disk_failure_message

    try:
        try:
            raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "metrics.jsonl"))
        except OSError:
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos")  # noqa: B904 (as torch raises it)
    except RuntimeError as exc:
        found = disk_failure(exc)
    assert found is not None and found.errno == errno.EROFS
    assert disk_failure(RuntimeError("unrelated")) is None
    state = SimpleNamespace(
        step=7,
        current_epoch=2,
        last_checkpoint=tmp_path / "checkpoints" / "epoch-0001.pt",
        checkpoint_step=5,
        run_dir=tmp_path,
        world_size=1,
    )
    message = disk_failure_message(found, state)
    assert "the file system is read-only while writing" in message and "metrics.jsonl" in message
    assert "epoch-0001.pt (step 5)" in message and f"ganframe run --resume {tmp_path}" in message

"""Weights: the Hub path against a loopback fake Hub, sha256 checks, the cache, refusals."""

from __future__ import annotations

import hashlib
import json
import struct
import textwrap

import pytest
import torch
from safetensors.torch import save_file

import zoo_core
from zoo_core import hub as zoo_hub
from zoo_core.errors import (HubError, IntegrityError, UnsafeWeightsError, WeightsFormatError,
                             WeightsNotFoundError)
from zoo_core.paths import zoo_cache_dir
from zoo_core.safetensors_header import read_header
from zoo_core.weights import resolve_weights

REPO = "acme/toy-gen"


@pytest.fixture
def published(toy, hub, tmp_path, monkeypatch):
    """The toy generator's weights published on the fake Hub, under a user-registry entry."""
    data = toy["toy-gen"].read_bytes()
    commit = hub.publish(REPO, {"model.safetensors": data})
    registry = tmp_path / "user.toml"
    registry.write_text(textwrap.dedent(f"""
        [models.hub-gen]
        architecture = "toy-mlp"
        task = "generator"
        description = "toy generator from the Hub"
        [models.hub-gen.weights]
        filename = "model.safetensors"
        size = {len(data)}
        sha256 = "{hashlib.sha256(data).hexdigest()}"
        repo_id = "{REPO}"
        revision = "{commit}"
        """))
    monkeypatch.setenv("ZOO_REGISTRY", str(registry))
    return {"data": data, "commit": commit}


def _file_requests(hub):
    return [r for r in hub.requests if "/resolve/" in r[1]]


def test_download_verifies_then_reuses_the_cache_without_requests(published, hub, zoo):
    code, out, err = zoo("pull", "hub-gen")
    assert code == 0, err
    assert "downloaded" in out
    cached = zoo_hub.cached_path(REPO, published["commit"], "model.safetensors")
    assert cached is not None and cached.read_bytes() == published["data"]
    assert str(cached).startswith(str(zoo_hub.hub_cache_dir()))  # the standard HF cache under HF_HOME
    hub.clear_requests()
    model = zoo_core.load("hub-gen", device="cpu")
    assert model.zoo_weights.origin == "cache"
    assert _file_requests(hub) == []
    assert zoo("list", "hub-gen", "--json")[1].count('"weights": "cached"') == 1


def test_offline_with_nothing_cached_names_the_file_and_the_fix(published, hub, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsNotFoundError) as info:
        zoo_core.load("hub-gen", device="cpu")
    message = str(info.value)
    assert "hub-gen" in message and "model.safetensors" in message and "HF_HUB_OFFLINE is set" in message
    assert "zoo pull hub-gen" in message
    assert _file_requests(hub) == []


def test_offline_with_the_file_cached_just_works(published, hub, monkeypatch):
    zoo_core.load("hub-gen", device="cpu")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    zoo_core.plugins.reset()
    assert zoo_core.load("hub-gen", device="cpu").zoo_weights.origin == "cache"


def test_corrupt_download_is_refused_and_deleted(published, hub, zoo):
    hub.set_fault(REPO, "model.safetensors", "corrupt")
    code, _, err = zoo("pull", "hub-gen")
    assert code == 1
    assert "has sha256" in err and "expected" in err and "deleted" in err
    assert zoo_hub.cached_path(REPO, published["commit"], "model.safetensors") is None
    blobs = list((zoo_hub.hub_cache_dir() / "models--acme--toy-gen" / "blobs").iterdir())
    assert blobs == []
    hub.set_fault(REPO, "model.safetensors", None)
    assert zoo("pull", "hub-gen")[0] == 0  # the next run downloads it afresh


def test_truncated_body_fails_cleanly_and_leaves_nothing(published, hub, zoo):
    hub.set_fault(REPO, "model.safetensors", "truncate")
    code, _, err = zoo("pull", "hub-gen")
    assert code == 1 and err.startswith("zoo: error: hub-gen: download of") and "broke off" in err
    assert zoo_hub.cached_path(REPO, published["commit"], "model.safetensors") is None


@pytest.mark.parametrize("change,message", [
    (lambda t: t.replace(REPO, "acme/missing"), "repository acme/missing not found"),
    (lambda t: t.replace('filename = "model.safetensors"', 'filename = "other.safetensors"'),
     "file other.safetensors not found in acme/toy-gen"),
    (lambda t: __import__("re").sub(r'revision = "[0-9a-f]{40}"', 'revision = "' + "c" * 40 + '"', t),
     "revision " + "c" * 40 + " not found"),
])
def test_hub_404s_become_one_line_errors(published, change, message, zoo, monkeypatch):
    path = __import__("pathlib").Path(__import__("os").environ["ZOO_REGISTRY"])
    path.write_text(change(path.read_text()))
    code, _, err = zoo("pull", "hub-gen")
    assert code == 1 and message in err and err.count("\n") == 1


def test_bad_device_or_dtype_fails_before_downloading(published, hub, zoo):
    code, _, err = zoo("run", "hub-gen", "--num", "1", "--device", "gpu")
    assert code == 1 and "--device 'gpu'" in err
    with pytest.raises(zoo_core.InputError, match="--dtype 'float8'"):
        zoo_core.load("hub-gen", device="cpu", dtype="float8")
    assert _file_requests(hub) == []
    assert zoo_hub.cached_path(REPO, published["commit"], "model.safetensors") is None


def test_server_error_with_nothing_cached_says_the_hub_answered_500(published, hub, zoo, sleeps, caplog):
    hub.set_fault(REPO, "model.safetensors", "500")
    code, _, err = zoo("run", "hub-gen", "--num", "1", "--out", "x.png")
    assert code == 1 and err.count("\n") == 1
    assert "the Hub answered HTTP 500" in err and "not in the cache" in err and "out of reach" not in err
    assert sleeps == [1.0, 2.0]  # zoo retried (3 tries, backing off) before giving up
    # ... without its retry chatter ("Retrying in 1s [Retry 1/5]") reaching the terminal
    assert not [r for r in caplog.records if r.name.startswith("huggingface_hub") and "Retry" in r.getMessage()]


def test_an_unreachable_hub_says_so(published, hub, zoo, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    code, _, err = zoo("pull", "hub-gen")
    assert code == 1 and "the Hub is out of reach" in err and "refused the connection" in err and "HTTP" not in err


def test_the_next_pull_leaves_no_orphaned_partial_download(published, hub, zoo):
    """An interrupted download leaves blobs/SHA.incomplete; huggingface_hub starts afresh and keeps it."""
    sha = hashlib.sha256(published["data"]).hexdigest()
    blobs = zoo_hub.hub_cache_dir() / "models--acme--toy-gen" / "blobs"
    blobs.mkdir(parents=True)
    (blobs / f"{sha}.incomplete").write_bytes(published["data"][:100])  # what a killed process leaves
    other = blobs / f"{'a' * 64}.incomplete"  # another file's download, maybe still running: not ours
    other.write_bytes(b"partial")
    assert zoo("pull", "hub-gen")[0] == 0
    assert sorted(p.name for p in blobs.iterdir()) == [sha, other.name]


def test_unreachable_endpoint_falls_back_to_cache(published, hub, monkeypatch):
    zoo_core.load("hub-gen", device="cpu")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    zoo_core.plugins.reset()
    assert zoo_core.load("hub-gen", device="cpu").zoo_weights.origin == "cache"


def test_bundled_copy_is_hashed_once_then_remembered(toy, monkeypatch):
    entry = zoo_core.get_entry("toy-gen")
    calls = []
    real = zoo_core.integrity.sha256_file
    monkeypatch.setattr(zoo_core.integrity, "sha256_file", lambda p: calls.append(p) or real(p))
    resolve_weights(entry)
    resolve_weights(entry)
    assert len(calls) == 1
    memo = json.loads((zoo_cache_dir() / "verified.json").read_text())
    assert str(toy["toy-gen"].resolve()) in memo


def test_a_file_changed_after_it_was_verified_is_hashed_again(toy):
    entry = zoo_core.get_entry("toy-gen")
    resolve_weights(entry)  # verified and remembered
    path = toy["toy-gen"]
    data = bytearray(path.read_bytes())
    before = path.stat().st_mtime_ns
    data[-1] ^= 0xFF  # same size, new mtime
    path.write_bytes(bytes(data))
    if path.stat().st_mtime_ns == before:  # a file system with coarse timestamps
        __import__("os").utime(path, ns=(before, before + 10**9))
    with pytest.raises(IntegrityError, match="has sha256"):
        resolve_weights(entry)


def test_damaged_bundled_copy_is_an_integrity_error(toy, zoo):
    path = toy["toy-gen"]
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    code, _, err = zoo("run", "toy-gen", "--num", "1")
    assert code == 1 and "bundled weights of toy-gen" in err and "has sha256" in err
    assert path.exists()  # a bundled copy is reported, never deleted
    code, _, err = zoo("verify", "toy-gen")
    assert code == 1 and "mismatch" not in err and "has sha256" in err


def test_verify_rehashes_and_deletes_a_bad_cached_file(published, hub, zoo):
    assert zoo("pull", "hub-gen")[0] == 0
    cached = zoo_hub.cached_path(REPO, published["commit"], "model.safetensors")
    assert zoo("verify", "hub-gen")[0] == 0
    blob = cached.resolve()
    blob.chmod(0o644)
    blob.write_bytes(published["data"][:-1] + b"\x00")
    code, out, err = zoo("verify", "hub-gen", "--json")
    assert code == 1
    (row,) = json.loads(out)
    assert row["checks"][0]["status"] == "mismatch"
    assert not blob.exists()


@pytest.mark.parametrize("name", ["model.bin", "model.pt", "model.pth", "model.ckpt", "weights.pkl"])
def test_pickle_formats_are_refused_by_name(toy, tmp_path, name, zoo):
    path = tmp_path / name
    path.write_bytes(b"\x80\x04whatever")
    code, _, err = zoo("run", "toy-gen", "--weights", str(path))
    assert code == 1 and "pickle-based format" in err and "safetensors" in err


def test_pickle_content_is_refused_whatever_the_name(tmp_path):
    path = tmp_path / "innocent.safetensors"
    torch.save({"x": torch.zeros(1)}, path)  # a zip archive holding a pickle
    with pytest.raises(UnsafeWeightsError):
        read_header(path)


def _raw(tmp_path, header, body=b""):
    blob = json.dumps(header).encode() if not isinstance(header, bytes) else header
    path = tmp_path / "w.safetensors"
    path.write_bytes(struct.pack("<Q", len(blob)) + blob + body)
    return path


def test_safetensors_whose_header_length_starts_with_0x80_is_not_mistaken_for_a_pickle(tmp_path):
    header = json.dumps({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode().ljust(128)
    path = _raw(tmp_path, header, b"\x00" * 4)  # header length 128: the file starts with b"\x80"
    assert path.read_bytes()[:1] == b"\x80"
    assert read_header(path) == {"x": ("F32", (1,))}



HOSTILE = [
    ("tiny file", None, "not a safetensors file (only"),
    ("huge header length", "huge", "header length"),
    ("header not json", b"{nope", "header is not JSON"),
    ("header not object", [1, 2], "header must be a JSON object"),
    ("unknown dtype", {"w": {"dtype": "X9", "shape": [1], "data_offsets": [0, 4]}}, "unknown dtype"),
    ("negative shape", {"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, "non-negative integers"),
    ("offsets past end", {"w": {"dtype": "F32", "shape": [1000], "data_offsets": [0, 4000]}}, "fall outside"),
    ("size mismatch", {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, "do not hold"),
    ("overlap", {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                 "b": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}, "overlap"),
]


@pytest.mark.parametrize("header,message", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_malformed_or_hostile_headers_are_clear_errors(tmp_path, header, message):
    if header is None:
        path = tmp_path / "w.safetensors"
        path.write_bytes(b"\x01\x02")
    elif header == "huge":
        path = tmp_path / "w.safetensors"
        path.write_bytes(struct.pack("<Q", 2**62) + b"{}")
    else:
        path = _raw(tmp_path, header, b"\x00" * 8)
    with pytest.raises(WeightsFormatError) as info:
        read_header(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_explicit_weights_path_is_used_and_hashed(toy, tmp_path):
    other = torch.nn.Linear(8, 64)
    path = tmp_path / "mine.safetensors"
    save_file({"linear.weight": other.weight.detach(), "linear.bias": other.bias.detach()}, str(path))
    model = zoo_core.load("toy-gen", device="cpu", weights=path)
    assert model.zoo_weights.origin == "explicit"
    assert model.zoo_weights.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert torch.equal(model.linear.weight, other.weight.detach())


def test_missing_explicit_weights(toy):
    with pytest.raises(WeightsNotFoundError, match="--weights .*nope.safetensors: no such file"):
        zoo_core.load("toy-gen", device="cpu", weights="nope.safetensors")


def test_hub_error_classes_are_zoo_errors():
    assert issubclass(HubError, zoo_core.ZooError) and issubclass(IntegrityError, zoo_core.WeightsError)


def test_gated_repo_uses_hf_token_and_never_prints_it(published, hub, zoo, monkeypatch):
    hub.gate(REPO, "hf_right_secret")
    code, out, err = zoo("pull", "hub-gen")  # no token at all: say to set one
    assert code == 1 and "acme/toy-gen is gated" in err and "set HF_TOKEN" in err
    monkeypatch.setenv("HF_TOKEN", "hf_wrong_secret")
    code, out, err = zoo("pull", "hub-gen")  # issue 21.11: a wrong token was told to 'set HF_TOKEN'
    assert code == 1 and "acme/toy-gen is gated" in err and "refused the token" in err
    assert "set HF_TOKEN" not in err and err.count("\n") == 1
    assert "hf_wrong_secret" not in out + err
    monkeypatch.setenv("HF_TOKEN", "hf_right_secret")  # read at call time
    code, out, err = zoo("--debug", "pull", "hub-gen", "--json")
    assert code == 0, err
    assert json.loads(out)[0]["origin"] == "download" and "hf_right_secret" not in out + err
    assert hub.request_log[-1].headers["authorization"] == "Bearer hf_right_secret"


def test_a_hub_that_accepts_and_never_answers_times_out_in_one_line(published, hub, zoo, monkeypatch, sleeps):
    """Issue 21.5: 'zoo pull' against a server that accepts and never answers stayed silent for 394 s."""
    import time

    hub.set_fault(REPO, "model.safetensors", "hang")
    monkeypatch.setenv("ZOO_HUB_TIMEOUT", "0.3")
    started = time.monotonic()
    code, _, err = zoo("pull", "hub-gen")
    assert time.monotonic() - started < 5
    assert code == 1 and err.count("\n") == 1, err
    assert f"{hub.url} did not answer within 0.3 s for {REPO}@" in err and "(3 tries)" in err
    assert "ZOO_HUB_TIMEOUT" in err and sleeps == [1.0, 2.0]  # a bounded retry, backing off


def test_zoo_hub_timeout_must_be_a_number_of_seconds(published, hub, zoo, monkeypatch):
    monkeypatch.setenv("ZOO_HUB_TIMEOUT", "soon")
    code, _, err = zoo("pull", "hub-gen")
    assert code == 1 and "ZOO_HUB_TIMEOUT='soon': give the seconds" in err


def test_a_redirect_loop_is_named_and_not_worth_retrying(published, hub, zoo, sleeps):
    """Issue 21.11: a redirect loop said 'run the command again'."""
    hub.set_fault(REPO, "model.safetensors", "redirect_loop")
    code, _, err = zoo("pull", "hub-gen")
    assert code == 1 and "redirects" in err and "in a loop" in err and "retrying will not help" in err, err
    assert "run the command again" not in err and err.count("\n") == 1 and sleeps == []


def test_an_endpoint_that_is_not_a_hub_is_named(published, hub, zoo):
    """Issue 21.11: an endpoint without X-Repo-Commit/ETag was 'could not be reached'."""
    hub.set_fault(REPO, "model.safetensors", "not_a_hub")
    code, _, err = zoo("pull", "hub-gen")
    assert code == 1 and "without the X-Repo-Commit and ETag header a Hugging Face Hub sends" in err, err
    assert "out of reach" not in err and err.count("\n") == 1


def test_a_size_that_differs_from_the_pin_is_refused_before_downloading(published, hub, zoo, tmp_path):
    """Issue 21.11/21.5: a file whose size differs from its pin was downloaded whole before being refused."""
    registry = tmp_path / "user.toml"
    size = len(published["data"])
    registry.write_text(registry.read_text().replace(f"size = {size}", f"size = {size + 1}"))
    code, _, err = zoo("pull", "hub-gen")
    assert code == 1 and f"is {size} bytes, but the registry pins {size + 1}; nothing was downloaded" in err, err
    assert [m for m, path in _file_requests(hub)] == ["HEAD"]  # never a GET
    assert zoo_hub.cached_path(REPO, published["commit"], "model.safetensors") is None


def test_a_download_longer_than_a_second_shows_progress_on_a_terminal(published, hub, zoo, monkeypatch):
    """Issue 21.5: a 22 s download on a terminal showed no progress."""
    import sys

    hub.set_fault(REPO, "model.safetensors", "slow")  # the body arrives over 1.5 s
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    code, _, err = zoo("pull", "hub-gen")
    assert code == 0, err
    assert "model.safetensors" in err and "%|" in err  # tqdm's bar, drawn once the download passed 1 s
    assert zoo_hub.cached_path(REPO, published["commit"], "model.safetensors").read_bytes() == published["data"]

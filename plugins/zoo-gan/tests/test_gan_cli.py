"""zoo-gan through the zoo CLI: the bundled models, training, evaluation, bad input."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

import zoo_core
from zoo_core.testing.data import fashion_mnist_available, write_fake_fashion_mnist

needs_fashion_mnist = pytest.mark.skipif(
    not fashion_mnist_available(),
    reason="needs Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist; .ci/run installs it)")

has_cdcgan = pytest.mark.skipif("cdcgan-fashion" not in [m.name for m in zoo_core.list_models()],
                                reason="cdcgan-fashion weights not bundled")


def test_bundled_models_load_strictly_and_match_their_registry_config():
    for name in ("dcgan-fashion", "fashion-classifier"):
        model = zoo_core.load(name, device="cpu")
        assert model.zoo_weights.origin == "bundled"
        assert model.config_dict() == dict(zoo_core.get_entry(name).config)


def test_quick_start_grid_is_reproducible(zoo, tmp_path):
    a, b, c = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"
    for path, seed in ((a, "0"), (b, "0"), (c, "1")):
        code, out, err = zoo("run", "dcgan-fashion", "--num", "64", "--seed", seed, "--out", str(path))
        assert code == 0, err
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()
    with Image.open(a) as image:
        assert image.size == (8 * 34 + 2, 8 * 34 + 2) and image.text["zoo:model"] == "dcgan-fashion"


def test_samples_look_like_fashion_mnist_to_the_classifier():
    """Not noise: the classifier is confident on most generated images, and they span the classes."""
    generator = zoo_core.load("dcgan-fashion", device="cpu")
    classifier = zoo_core.load("fashion-classifier", device="cpu")
    with torch.inference_mode():
        probabilities = classifier(generator.sample(500, seed=0)).softmax(1)
    assert probabilities.max(1).values.median() > 0.9
    assert len(probabilities.argmax(1).unique()) == 10


def test_interpolation_strip(zoo, tmp_path):
    code, _, err = zoo("run", "dcgan-fashion", "--seed", "3", "--interpolate", "4", "--frames", "6", "--out",
                       str(tmp_path / "strip.png"))
    assert code == 0, err
    with Image.open(tmp_path / "strip.png") as image:
        assert image.size == (6 * 34 + 2, 34 + 2)


@pytest.mark.parametrize("args,message", [
    (["--num", "0"], "--num must be positive"),
    (["--label", "3"], "takes no option --label"),
    (["--out", "/nonexistent/grid.png"], "folder /nonexistent does not exist"),
])
def test_bad_run_arguments(zoo, args, message):
    code, out, err = zoo("run", "dcgan-fashion", *args)
    assert code in (1, 2) and out == "" and message in err and err.count("\n") == 1


@has_cdcgan
def test_conditional_labels_by_name_and_index(zoo, tmp_path):
    code, out, err = zoo("run", "cdcgan-fashion", "--label", "sneaker", "--num", "16", "--out",
                         str(tmp_path / "s.png"), "--json")
    assert code == 0, err
    assert json.loads(out)["label"] == 7 and json.loads(out)["class"] == "sneaker"
    code, _, err = zoo("run", "cdcgan-fashion", "--label", "hat")
    assert code == 1 and "unknown class" in err and "7=sneaker" in err


@pytest.mark.slow  # a real training run (about 20 s on 2 loaded cores)
def test_train_on_a_folder_writes_a_hub_model_repo(zoo, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for i in range(16):
        Image.new("L", (40, 40), i * 15).save(images / f"{i:02d}.png")
    out = tmp_path / "run"
    code, stdout, err = zoo("train", "dcgan", "--dataset", "folder", "--data-dir", str(images), "--epochs", "1",
                            "--batch-size", "8", "--out", str(out), "--quiet", "--device", "cpu")
    assert code == 0, err
    assert {"model.safetensors", "config.json", "README.md", "checkpoint.safetensors", "training.json"} <= {
        p.name for p in out.iterdir()}
    from huggingface_hub import ModelCard
    from huggingface_hub.repocard import metadata_load

    meta = metadata_load(out / "README.md")  # how the Hub reads a model card's YAML
    assert meta["license"] == "apache-2.0" and meta["library_name"] == "zoo" and "datasets" not in meta
    assert meta["metrics"] == ["fd"] and "model-index" not in meta  # no Hub data set to report results on
    ModelCard((out / "README.md").read_text())  # the Hub's own parser accepts it
    assert "zoo train dcgan --dataset folder" in (out / "README.md").read_text()
    code, _, err = zoo("run", "dcgan-fashion", "--weights", str(out / "model.safetensors"), "--num", "4",
                       "--out", str(tmp_path / "mine.png"))
    assert code == 0, err


def test_corrupt_data_file_is_a_one_line_error(zoo, tmp_path):
    folder = write_fake_fashion_mnist(tmp_path / "fm")
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b garbage")
    code, _, err = zoo("train", "dcgan", "--data-dir", str(folder), "--out", str(tmp_path / "o"), "--classifier",
                       "none", "--device", "cpu")
    assert code == 1 and "train-images-idx3-ubyte.gz: cannot read IDX file" in err and err.count("\n") == 1


def test_eval_plumbing_on_a_miniature_data_set(zoo, tmp_path):
    folder = write_fake_fashion_mnist(tmp_path / "fm", n_train=200, n_test=150)
    code, out, err = zoo("eval", "dcgan-fashion", "--samples", "150", "--data-dir", str(folder), "--device", "cpu",
                         "--json")
    assert code == 0, err
    result = json.loads(out)
    assert set(result["metrics"]) == {"fd", "kid", "kid_std", "fd_floor", "kid_floor", "fd_blurred_test",
                                      "fd_noised_test"}
    assert result["registry"]["fd"] == zoo_core.get_entry("dcgan-fashion").metrics["fd"].value


@pytest.mark.slow  # evaluates on all 10,000 test images
@needs_fashion_mnist
@pytest.mark.parametrize("name", ["fashion-classifier", "dcgan-fashion",
                                  pytest.param("cdcgan-fashion", marks=has_cdcgan)])
def test_zoo_eval_reproduces_the_registry_metrics(zoo, name):
    code, out, err = zoo("eval", name, "--device", "cpu", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert set(result["metrics"]) == set(result["registry"])
    for key, recorded in result["registry"].items():
        # recorded on a GPU; the CPU differs only by float rounding
        assert result["metrics"][key] == pytest.approx(recorded, rel=2e-3, abs=2e-3), key
    if name != "fashion-classifier":
        metrics = result["metrics"]
        assert metrics["fd_floor"] < metrics["fd"] < metrics["fd_blurred_test"] < metrics["fd_noised_test"]
    else:
        assert result["metrics"]["test_accuracy"] >= 0.90


@pytest.mark.parametrize("args,message", [
    (["fashion-classifier", "--limit", "5", "--batch-size", "2"],
     "--limit 5: the classifier needs at least 10 training images, got 5"),
    (["dcgan", "--eval-samples", "1"], "--eval-samples must be at least 2, got 1"),
    (["dcgan", "--image-size", "64", "--classifier", "fashion-classifier"],
     "--classifier fashion-classifier takes 1x32x32 images, but these are 1x64x64"),
    (["dcgan", "--epochs", "0"], "--epochs must be positive, got 0"),
    (["dcgan", "--limit", "0"], "--limit must be positive, got 0"),
])
def test_bad_train_arguments_are_one_line_errors(zoo, tmp_path, args, message):
    folder = write_fake_fashion_mnist(tmp_path / "fm")
    code, out, err = zoo("train", *args, "--data-dir", str(folder), "--out", str(tmp_path / "o"), "--device", "cpu",
                         "--quiet")
    assert code == 1 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "o" / "model.safetensors").exists()


@pytest.mark.parametrize("name,samples,message", [
    ("dcgan-fashion", "1", "--samples must be at least 2, got 1"),
    pytest.param("cdcgan-fashion", "5", "--samples 5: cdcgan-fashion has 10 classes", marks=has_cdcgan),
])
def test_eval_with_too_few_samples_is_a_one_line_error(zoo, tmp_path, name, samples, message):
    folder = write_fake_fashion_mnist(tmp_path / "fm")
    code, _, err = zoo("eval", name, "--samples", samples, "--data-dir", str(folder), "--device", "cpu")
    assert code == 1 and message in err and err.count("\n") == 1, err


def test_a_gan_folder_given_as_classifier_is_a_one_line_error(zoo, tmp_path):
    folder = write_fake_fashion_mnist(tmp_path / "fm")
    gan = tmp_path / "gan"
    gan.mkdir()
    (gan / "config.json").write_text(json.dumps({"image_size": 32, "latent_dim": 100}))
    code, _, err = zoo("train", "dcgan", "--classifier", str(gan), "--data-dir", str(folder), "--out",
                       str(tmp_path / "o"), "--device", "cpu", "--quiet")
    assert code == 1 and f"--classifier {gan}: not a feature classifier" in err and err.count("\n") == 1, err


def test_train_on_rgb_images_with_channels_3(zoo, tmp_path):
    images = tmp_path / "rgb"
    images.mkdir()
    for i in range(8):
        Image.new("RGB", (32, 32), (i * 30, 255 - i * 30, 90)).save(images / f"{i}.png")
    out = tmp_path / "run"
    code, _, err = zoo("train", "dcgan", "--dataset", "folder", "--data-dir", str(images), "--channels", "3",
                       "--epochs", "1", "--batch-size", "4", "--width", "8", "--out", str(out), "--quiet",
                       "--device", "cpu")
    assert code == 0, err
    assert json.loads((out / "config.json").read_text())["channels"] == 3
    code, _, err = zoo("train", "dcgan", "--channels", "3", "--out", str(tmp_path / "x"), "--device", "cpu")
    assert code == 1 and "Fashion-MNIST is greyscale" in err


def test_model_cards_name_the_right_hub_task_and_dataset():
    from zoo_core.training import FitResult
    from zoo_gan.card import model_card

    result = FitResult(epochs=2, best_epoch=1, best={"fd": 3.0}, seconds=60.0,
                       history=[{"epoch": 1, "fd": 3.0}, {"epoch": 2, "fd": 4.0}], images_per_second=100.0)
    gan = model_card(title="DCGAN on folder:shoes", config={}, result=result, recipe="zoo train dcgan",
                     dataset="folder:shoes", classes=(), monitor_note="none")
    import yaml
    from huggingface_hub import ModelCard

    meta = yaml.safe_load(gan.split("---")[1])
    assert "datasets" not in meta and "model-index" not in meta  # a user's folder has no Hub data set
    classifier = model_card(title="classifier", config={}, result=result, recipe="r", dataset="fashion-mnist/train",
                            classes=(), monitor_note="n", task="image-classification")
    meta = yaml.safe_load(classifier.split("---")[1])
    assert meta["model-index"][0]["results"][0]["task"]["type"] == "image-classification"
    assert "image-classification" in meta["tags"] and meta["datasets"] == ["zalando-datasets/fashion_mnist"]
    (result_row,) = ModelCard(classifier).data.eval_results  # parsed the way the Hub parses it
    assert result_row.dataset_type == "zalando-datasets/fashion_mnist" and result_row.metric_type == "fd"
    titled = model_card(title="DCGAN on fashion: shoes", config={}, result=result, recipe="r", dataset="fashion-mnist",
                        classes=(), monitor_note="n")
    assert ModelCard(titled).data.model_name == "DCGAN on fashion: shoes"  # quoted: a ': ' would break the YAML

"""deep-scm: learned mechanisms' abduction is exact, counterfactuals are consistent, a folder + CSV +
graph trains end to end into a run folder that zoo run / info / eval take, and bad input is one line."""

import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image

import zoo_core
from zoo_causalgen.deep_scm import DeepSCM, DeepSCMConfig
from zoo_causalgen.mechanisms import AttributeSpec, CategoricalMechanism, fit_knots
from zoo_causalgen.strokes import write_strokes

GRAPH = "thickness -> intensity; thickness -> image; intensity -> image; digit -> image"


def _random_model(seed: int = 0) -> DeepSCM:
    """Random weights (large enough that every mechanism really depends on its parents)."""
    rng = np.random.default_rng(seed)
    thickness, intensity = 0.5 + rng.gamma(10, 0.2, 500), rng.uniform(60, 255, 500)
    specs = [AttributeSpec("thickness", "continuous", [], float(thickness.min()), float(thickness.max()),
                           *fit_knots(thickness.tolist())),
             AttributeSpec("digit", "categorical", [], 0, 9, categories=[float(i) for i in range(10)],
                           labels=[str(i) for i in range(10)]),
             AttributeSpec("intensity", "continuous", ["thickness", "digit"], 60, 255, *fit_knots(intensity.tolist())),
             AttributeSpec("bold", "binary", ["thickness"], 0, 1, categories=[0.0, 1.0], labels=["0", "1"])]
    torch.manual_seed(seed)
    model = DeepSCM(DeepSCMConfig(attributes=specs, image_parents=["thickness", "intensity", "digit"], height=16,
                                  width=16, latent_dim=4, base_channels=4, hidden=16))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith("attributes."):
                p.normal_(0, 0.4)
    return model.eval()


def test_abduction_then_prediction_gives_back_every_kind_of_attribute():
    scm = _random_model().scm
    values, _ = scm.sample(np.random.default_rng(1), 2000)
    assert len(np.unique(values["digit"])) == 10 and len(np.unique(values["bold"])) == 2
    again = scm.solve(scm.abduct(values))
    for name in values:  # continuous: the flow inverted; discrete: the Gumbel posterior's argmax
        assert np.allclose(again[name], values[name], rtol=1e-5, atol=1e-4), name


def test_the_continuous_flow_inverts_exactly_given_its_parents():
    model = _random_model(2)
    mechanism = model.attributes.mechanisms["intensity"]
    parents = model.attributes.codes({"thickness": torch.full((256,), 2.5), "digit": torch.arange(256) % 10.0},
                                     ["thickness", "digit"])
    noise = torch.randn(256)
    x = mechanism.sample(noise, parents)
    inside = (x > 60) & (x < 255)  # values clamped to the support are not invertible, and never observed
    assert inside.float().mean() > 0.5
    assert torch.allclose(mechanism.abduct(x, parents)[inside], noise[inside], atol=1e-4)


def test_gumbel_abduction_draws_the_prior_noise_on_average():
    # abducting Gumbels of categories the model itself drew must give standard Gumbels back (their
    # posterior averaged over the prior is the prior): mean 0.5772 (Euler's), variance pi^2 / 6
    spec = AttributeSpec("c", "categorical", [], 0, 4, categories=[0.0, 1.0, 2.0, 3.0, 4.0], labels=list("01234"))
    mechanism = CategoricalMechanism(spec, 0, 8)
    with torch.no_grad():
        mechanism.logits.copy_(torch.tensor([2.0, 0.0, -1.0, 0.5, 1.0]))
    generator = torch.Generator().manual_seed(0)
    drawn = mechanism.sample(mechanism.draw_noise(40000, generator, torch.device("cpu")), None)
    with torch.no_grad():
        gumbels = mechanism.abduct(drawn, None, generator)
    assert torch.equal(mechanism.sample(gumbels, None), drawn)
    assert abs(float(gumbels.mean()) - 0.5772) < 0.02
    assert abs(float(gumbels.var()) - np.pi ** 2 / 6) < 0.05


def test_counterfactuals_are_consistent_and_move_only_descendants():
    scm = _random_model(3).scm
    values, _ = scm.sample(np.random.default_rng(4), 500)
    same, _ = scm.counterfactual(values, {"thickness": 0.0 + values["thickness"][0]})
    unit = {k: v[:1] for k, v in values.items()}
    own, _ = scm.counterfactual(unit, {"thickness": float(unit["thickness"][0])})
    for name in unit:  # do(x = its own value) changes nothing (consistency)
        assert np.allclose(own[name], unit[name], atol=1e-4), name
    assert np.array_equal(same["digit"], values["digit"])  # a non-descendant of thickness stays
    assert not np.allclose(same["intensity"], values["intensity"])  # a descendant follows its mechanism


def test_do_on_a_discrete_attribute_must_name_a_category():
    scm = _random_model().scm
    with pytest.raises(zoo_core.InputError, match="not one of its categories"):
        scm.sample(np.random.default_rng(0), 4, do={"digit": 4.5})
    with pytest.raises(zoo_core.InputError, match="outside its support"):
        scm.sample(np.random.default_rng(0), 4, do={"thickness": 99.0})


def test_the_image_counterfactual_keeps_the_abducted_image_noise():
    model = _random_model(5)
    samples = model.generate(6, seed=0)
    result = model.counterfactual(samples.images, {"digit": 3.0})
    assert tuple(result.images.shape) == (6, 1, 16, 16)
    assert all(result.factors["digit"] == 3.0)
    assert result.sources == {"thickness": "abducted", "digit": "do", "intensity": "abducted", "bold": "abducted"}
    row = result.rows()[0]
    assert len(row["noise"]["digit"]) == 10  # one Gumbel per category


@pytest.mark.parametrize("convs", [1, 2])
def test_each_decoder_stage_knows_where_it_is(convs):
    """The coordinate ramps: a convolution alone draws the same thing everywhere on a uniform map,
    so a thin shape whose place an attribute sets (a pendulum's rod) cannot be placed."""
    torch.manual_seed(6)
    config = DeepSCMConfig(height=16, width=16, latent_dim=4, base_channels=4, stage_convs=convs)
    stage = DeepSCM(config).decoder.stages[0]
    ramps = [r for r in (stage.ramp1, stage.ramp2) if r is not None]
    assert len(ramps) == convs
    with torch.no_grad():
        for ramp in ramps:  # weights of the size a trained stage has
            ramp.weight.normal_(0, 1)
        uniform, code = torch.ones(1, stage.conv.in_channels, 4, 4), torch.zeros(1, stage.film.in_features)
        inner = stage(uniform, code)[0, :, 3:-3, 3:-3]  # away from the zero padding's border
        assert (inner - inner[:, :1, :1]).abs().amax() > 1e-2
        for ramp in ramps:
            ramp.weight.zero_()
        inner = stage(uniform, code)[0, :, 3:-3, 3:-3]
        assert (inner - inner[:, :1, :1]).abs().amax() < 1e-6  # without them: blind to position


def test_large_images_get_two_convolutions_per_decoder_stage():
    assert DeepSCMConfig(height=64, width=64).convolutions_per_stage == 2
    assert DeepSCMConfig(height=28, width=28).convolutions_per_stage == 1  # the CPU budget's size
    assert DeepSCMConfig(height=28, width=28, stage_convs=2).convolutions_per_stage == 2


def test_the_decoder_reaches_pure_white_and_pure_black():
    """A white background (a rendered scene's) was out of reach while the gain starts below 1."""
    model = _random_model(7)
    code = model.image_code({"thickness": torch.full((1,), 2.5), "intensity": torch.full((1,), 200.0),
                             "digit": torch.zeros(1)})
    with torch.no_grad():
        for bias, beyond in ((20.0, lambda x: x >= 1), (-20.0, lambda x: x <= -1)):
            model.decoder.out.bias.fill_(bias)
            model.decoder.out.weight.zero_()
            assert beyond(model.decoder(torch.zeros(1, 4), code)).all()


# -- end to end: a folder, a CSV, a graph ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    folder = tmp_path_factory.mktemp("digits")
    write_strokes(folder, 40, seed=0)
    return folder


@pytest.fixture(scope="module")
def trained(digits, tmp_path_factory):
    """A run folder from 32 images and one epoch (the contract, not the quality)."""
    from zoo_core.cli import main

    run = tmp_path_factory.mktemp("runs") / "digits"
    code = main(["train", "deep-scm", "--images", str(digits), "--attributes", str(digits / "attributes.csv"),
                 "--graph", str(digits / "graph.txt"), "--out", str(run), "--epochs", "1", "--batch-size", "8",
                 "--held-out", "0.2", "--latent-dim", "4", "--width", "4", "--quiet"])
    assert code == 0
    return run


def test_training_from_a_folder_writes_a_run_that_zoo_runs(trained, digits, zoo, tmp_path):
    for name in ("model.safetensors", "config.json", "README.md", "zoo.json", "data.json"):
        assert (trained / name).is_file(), name
    code, out, err = zoo("run", str(trained), "--graph")
    assert code == 0 and out.strip() == GRAPH
    code, out, err = zoo("run", str(trained), "--do", "thickness=2", "--num", "4", "--out", str(tmp_path / "g.png"),
                         "--json")
    assert code == 0, err
    samples = json.loads(out)["samples"]
    assert [s["factors"]["thickness"] for s in samples] == [2.0] * 4
    assert samples[0]["source"] == {"thickness": "do", "intensity": "sampled", "digit": "sampled"}
    inputs = [digits / "00000.png", digits / "00001.png"]
    code, out, err = zoo("run", str(trained), *map(str, inputs), "--do", "digit=7", "--out-dir", str(tmp_path / "cf"),
                         "--json")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "cf").iterdir()) == ["00000.png", "00001.png"]
    assert Image.open(tmp_path / "cf" / "00000.png").size == (28, 28)
    rows = json.loads(out)["samples"]
    assert all(r["factors"]["digit"] == 7 and r["source"]["thickness"] == "abducted" for r in rows)
    code, out, err = zoo("run", str(trained), "--given", "intensity=150", "--num", "2", "--json")
    assert code == 0, err
    assert all(s["factors"]["intensity"] == 150 for s in json.loads(out)["samples"])
    code, out, err = zoo("info", str(trained))
    assert code == 0 and "deep-scm" in out and "sha256:" in out and GRAPH in out
    code, out, err = zoo("export", str(trained), str(tmp_path / "hub"))
    assert code == 0, err
    assert (tmp_path / "hub" / "model.safetensors").read_bytes() == (trained / "model.safetensors").read_bytes()
    assert "hf upload OWNER/digits " in out  # the run folder's last part names the repo


def test_zoo_eval_reports_every_soundness_metric_beside_its_floor(trained, zoo):
    code, out, err = zoo("eval", str(trained), "--json")
    assert code == 0, err
    metrics = json.loads(out)["metrics"]
    for name in ("thickness", "intensity", "digit"):
        assert f"effectiveness_{name}" in metrics and f"read_{name}" in metrics
        assert f"reversibility_l1_{name}" in metrics
    assert "effect_thickness_on_intensity" in metrics and "preservation_thickness_keeps_digit" in metrics
    assert "preservation_intensity_keeps_thickness" in metrics  # a parent is not moved by its child
    assert 0 < metrics["composition_l1_1"] < 255 and 0 < metrics["composition_l1_10"] < 255
    assert metrics["realism_fd_floor"] >= 0 and metrics["realism_fd_samples"] >= 0
    code, out, err = zoo("eval", str(trained))
    assert code == 0 and "effectiveness" in out and "floor" in out


# -- bad input: one line naming the file, row or column -------------------------------------------------------


def _rewrite(folder, rows):
    with (folder / "attributes.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)


@pytest.fixture
def small(tmp_path):
    folder = tmp_path / "small"
    write_strokes(folder, 12, seed=1)
    return folder


def _train(zoo, folder, *extra):
    return zoo("train", "deep-scm", "--images", str(folder), "--attributes", str(folder / "attributes.csv"),
               "--out", str(folder.parent / "run"), "--epochs", "1", "--batch-size", "4", "--quiet", *extra)


def _one_line(code, err):
    assert code != 0 and "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    return lines[-1]


def test_a_row_whose_image_is_missing(small, zoo):
    (small / "00003.png").unlink()
    line = _one_line(*_train(zoo, small)[::2])
    assert "row 5" in line and "00003.png" in line


def test_an_image_of_another_size_or_mode(small, zoo):
    Image.new("L", (32, 32)).save(small / "00004.png")
    line = _one_line(*_train(zoo, small)[::2])
    assert "00004.png" in line and "32x32" in line and "28x28" in line
    Image.new("RGB", (28, 28)).save(small / "00004.png")
    line = _one_line(*_train(zoo, small)[::2])
    assert "00004.png" in line and "RGB" in line and "greyscale" in line


def test_an_attribute_column_with_nans(small, zoo):
    rows = list(csv.reader((small / "attributes.csv").open()))
    rows[3][2] = "nan"
    _rewrite(small, rows)
    line = _one_line(*_train(zoo, small)[::2])
    assert "row 4" in line and "'intensity'" in line


def test_a_graph_naming_a_column_that_does_not_exist(small, zoo):
    line = _one_line(*_train(zoo, small, "--graph", "thickness -> width; thickness -> image")[::2])
    assert "'width'" in line and "not a column" in line


def test_a_cyclic_graph(small, zoo):
    line = _one_line(*_train(zoo, small, "--graph", "thickness -> intensity; intensity -> thickness; digit")[::2])
    assert "cycle" in line
    assert "thickness -> intensity -> thickness" in line or "intensity -> thickness -> intensity" in line


def test_a_constant_attribute(small, zoo):
    rows = list(csv.reader((small / "attributes.csv").open()))
    for row in rows[1:]:
        row[3] = "4"
    _rewrite(small, rows)
    line = _one_line(*_train(zoo, small)[::2])
    assert "'digit'" in line and "constant" in line


def test_discovery_names_the_edges_it_cannot_orient(small, zoo):
    line = _one_line(*_train(zoo, small, "--discover", "pc", "--columns", "thickness,intensity")[::2])
    assert "cannot orient" in line and "thickness" in line and "--graph" in line


def test_an_interrupted_training_resumes_where_it_stopped(digits, tmp_path, zoo):
    common = ["train", "deep-scm", "--images", str(digits), "--attributes", str(digits / "attributes.csv"),
              "--out", str(tmp_path / "run"), "--batch-size", "8", "--latent-dim", "4", "--width", "4", "--quiet"]
    code, _, err = zoo(*common, "--epochs", "1")
    assert code == 0, err
    code, _, err = zoo(*common, "--epochs", "1")
    assert code != 0 and "--resume" in err  # never trains over a run by accident
    code, _, err = zoo(*common, "--epochs", "2", "--resume")
    assert code == 0, err
    assert "resumed from" in err and "after epoch 1" in err
    assert [h["epoch"] for h in json.loads((tmp_path / "run" / "training.json").read_text())["history"]] == [1, 2]


def test_a_column_the_graph_leaves_out_is_a_cause_of_the_image():
    from zoo_causalgen.user_graph import parse_graph

    graph = parse_graph("thickness -> intensity; thickness -> image; intensity -> image", ["thickness", "intensity", "digit"])
    assert graph.parents["digit"] == () and "digit" in graph.image_parents
    assert graph.text() == "thickness -> intensity; thickness -> image; intensity -> image; digit -> image"
    implied = parse_graph("thickness -> intensity", ["thickness", "intensity", "digit"])
    assert set(implied.image_parents) == {"thickness", "intensity", "digit"}

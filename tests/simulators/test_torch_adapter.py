"""The torch adapter: learners, seeding, rewards, bad input, the README example, and the torch claims."""

import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from selfconsume.simulators import GaussianLearner, retrain  # noqa: E402
from selfconsume.simulators import torch as st  # noqa: E402
from selfconsume.theory import linear_reward, ring_of_gaussians  # noqa: E402

RING = ring_of_gaussians().rvs(400, random_state=0)


class Diag(torch.nn.Module):
    def __init__(self, d=2):
        super().__init__()
        self.loc = torch.nn.Parameter(torch.zeros(d))
        self.log_scale = torch.nn.Parameter(torch.zeros(d))


def _fit(m, X, *, steps, generator):
    opt = torch.optim.Adam(m.parameters(), lr=0.05)
    for _ in range(steps):
        idx = torch.randint(X.shape[0], (64,), generator=generator)
        nll = (((X[idx] - m.loc) / m.log_scale.exp()) ** 2 / 2 + m.log_scale).sum(1).mean()
        opt.zero_grad()
        nll.backward()
        opt.step()


def _sample(m, n, *, generator):
    return m.loc + m.log_scale.exp() * torch.randn(n, m.loc.numel(), generator=generator)


def _learner(**kw):
    return st.TorchLearner(Diag(), _fit, _sample, steps=20, device="cpu", **kw)


def test_readme_example_runs():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("<!-- torch-example", 1)[1]
    code = re.search(r"```python\n(.*?)```", block, re.S).group(1)
    ns = {}
    exec(compile(code, "README torch example", "exec"), ns)
    mr = ns["res"].to_frame().groupby("generation")["mean_reward"].mean().to_numpy()
    assert mr.shape == (4,) and np.all(np.diff(mr) > 0)


def test_same_seed_same_numbers_and_serial_replicates():
    a = retrain(_learner(), RING, 3, n=200, reps=3, rng=5, workers=1)
    b = retrain(_learner(), RING, 3, n=200, reps=3, rng=5, workers=2)  # forced serial: identical
    np.testing.assert_array_equal(a.samples, b.samples)
    c = retrain(_learner(), RING, 3, n=200, reps=3, rng=6)
    assert not np.array_equal(a.samples, c.samples)
    # the global torch stream is restored: the adapter does not disturb the user's torch randomness
    torch.manual_seed(123)
    x0 = torch.rand(3)
    torch.manual_seed(123)
    _learner().fit(RING, random_state=0).sample(5, random_state=1)
    np.testing.assert_array_equal(torch.rand(3).numpy(), x0.numpy())


def test_clone_warm_start_and_first_steps():
    steps_seen = []

    def fit(m, X, *, steps, generator):
        steps_seen.append(steps)

    lrn = st.TorchLearner(Diag(), fit, _sample, steps=3, first_steps=10, device="cpu")
    lrn.fit(RING)
    lrn.fit(RING)
    clone = lrn.clone()  # a clone of a trained learner fine-tunes: no second pretraining
    clone.fit(RING)
    assert steps_seen == [10, 3, 3]
    assert clone.module is not lrn.module


def test_torch_gaussian_matches_the_numpy_learner():
    tg = st.TorchGaussian(device="cpu").fit(RING)
    ng = GaussianLearner().fit(RING)
    np.testing.assert_allclose(tg.mean_, ng.mean_, rtol=1e-13)
    np.testing.assert_allclose(tg.cov_, ng.cov_, rtol=1e-12)
    from scipy import stats

    ref = stats.multivariate_normal(ng.mean_, ng.cov_).logpdf(RING[:20])
    np.testing.assert_allclose(tg.log_prob(RING[:20]), ref, rtol=1e-10)
    s = tg.sample(50_000, random_state=0)
    assert s.dtype == np.float64 and s.shape == (50_000, 2)
    assert tg.module.loc.dtype == torch.float64  # the learner's dtype is kept inside


def test_flow_and_vae_learn_and_sample():
    f = st.FlowLearner(steps=30, hidden=(16, 16), ode_steps=4, device="cpu").fit(RING, random_state=0)
    x = f.sample(100, random_state=1)
    assert x.shape == (100, 2) and np.isfinite(x).all()
    np.testing.assert_array_equal(x, f.sample(100, random_state=1))
    X, y = st.load_digits_data()
    assert X.shape == (1797, 64) and X.min() >= 0 and X.max() <= 1 and set(y) == set(range(10))
    v = st.DigitsVAE(steps=5, first_steps=5, hidden=16, latent=2, device="cpu").fit(X[:200], random_state=0)
    assert v.sample(7, random_state=0).shape == (7, 64)


def test_classifier_rewards():
    X, y = st.load_digits_data()
    clf, acc = st.train_digits_classifier(X, y, epochs=3)
    assert 0.5 < acc <= 1.0
    q3 = st.class_probability_reward(clf, 3, gamma=2.0, device="cpu")(X[:50])
    conf = st.confidence_reward(clf, gamma=2.0, device="cpu")(X[:50])
    assert q3.shape == conf.shape == (50,)
    assert np.all((q3 >= 0) & (q3 <= 2.0)) and np.all(conf >= q3 - 1e-12) and np.all(conf >= 2.0 / 10)
    with pytest.raises(ValueError, match="c must be <"):
        st.class_probability_reward(clf, 12, device="cpu")(X[:5])


@pytest.mark.parametrize("make, exc, match", [
    (lambda: st.TorchLearner(object(), _fit, _sample), TypeError, "module must be a torch.nn.Module"),
    (lambda: st.TorchLearner(Diag(), None, _sample), TypeError, "fit must be a callable"),
    (lambda: st.TorchLearner(Diag(), _fit, _sample, steps=-1), ValueError, "steps"),
    (lambda: st.TorchLearner(Diag(), _fit, _sample, device="nope"), ValueError, "device"),
    (lambda: st.TorchLearner(Diag(), _fit, _sample, dtype="int32"), ValueError, "dtype"),
    (lambda: _learner().fit(np.full((10, 2), np.nan)), ValueError, "finite"),
    (lambda: _learner().fit(np.zeros((10, 2, 2))), ValueError, "shape"),
    (lambda: _learner().sample(3), RuntimeError, "not fitted"),
    (lambda: _learner().fit(RING).fit(np.zeros((10, 3))), ValueError, "2 columns"),
    (lambda: st.TorchLearner(Diag(), _fit, lambda m, n, *, generator: torch.zeros(n, 5), device="cpu")
     .fit(RING).sample(4), ValueError, "expected"),
    (lambda: st.TorchLearner(Diag(), _fit, lambda m, n, *, generator: torch.full((n, 2), float("nan")),
                             device="cpu").fit(RING).sample(4), ValueError, "non-finite"),
    (lambda: st.TorchLearner(Diag(), _fit, lambda m, n, *, generator: np.zeros((n, 2)), device="cpu")
     .fit(RING).sample(4), TypeError, "torch.Tensor"),
    (lambda: st.torch_reward(lambda x: x, device="cpu")(RING[:5]), ValueError, "one value per point"),
    (lambda: st.torch_reward(lambda x: x[:, 0] * float("nan"), device="cpu")(RING[:5]), ValueError, "finite"),
    (lambda: st.torch_reward(3.0), TypeError, "fn must be"),
    (lambda: _learner().log_prob(RING), RuntimeError, "not fitted"),
])
def test_bad_input(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_missing_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        st.resolve_device("cuda")
    assert st.resolve_device(None).type == "cpu"


def test_curated_torch_gaussian_uses_the_luce_choice():
    res = retrain(st.TorchGaussian(device="cpu"), RING, 2, n=500, K=8, reward=linear_reward([1.0, 0.0]), reps=2,
                  rng=0)
    mr = res.to_frame().groupby("generation")["mean_reward"].mean().to_numpy()
    assert mr[2] > mr[1] > mr[0]


def test_verify_torch_backend_passes():
    from selfconsume.analysis import list_claims, verify

    ids = [c.id for c in list_claims(backend="torch")]
    assert ids == ["torch.alpha_law", "torch.curated_reward", "torch.ring_stability", "torch.digits_bias"]
    assert not any(c.id.startswith("torch.") for c in list_claims())  # the default backend stays numpy-only
    rep = verify(backend="torch", budget="quick")
    assert rep.passed, rep.table()
    assert rep.stem == "verify_torch"


def test_same_numbers_whatever_the_torch_thread_count():
    threads = torch.get_num_threads()
    out = []
    try:
        for nt in (1, 2):
            torch.set_num_threads(nt)
            f = st.FlowLearner(steps=20, first_steps=40, hidden=(32, 32), ode_steps=4, device="cpu")
            out.append(retrain(f, RING, 2, n=300, reps=1, rng=0).samples)
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_array_equal(out[0], out[1])

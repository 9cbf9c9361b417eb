r"""The torch adapter: trained torch models as learners of :func:`~selfconsume.simulators.retrain`.

torch is imported here only, lazily, and only when an adapter object is built (the optional
extra ``selfconsume[torch]``; on a CPU-only machine install ``torch==2.13.0`` first, see the
README). A torch model is one more learner of the same retraining loop — fully synthetic, λ
real data, accumulate, Bradley–Terry curation — not a second loop.

The learner protocol (:mod:`selfconsume.simulators` learners) is numpy in, numpy out:
``fit(X, random_state) -> self`` on an ``(n, d)`` array, ``sample(n, random_state) -> (n, d)``
array, optional ``log_prob(X)``. The adapter converts at that boundary only; inside, tensors
keep the learner's ``dtype`` and ``device``.

Seeding. ``random_state`` is the replicate's numpy ``Generator`` (``retrain`` passes it); every
call draws one 63-bit seed from it and runs the model's code under
``torch.random.fork_rng`` seeded with it (the global torch streams of the CPU and of the
learner's device are restored afterwards), and also passes a ``torch.Generator`` seeded the
same way to the user's functions. So a run is reproducible from the toolkit's seed alone,
on CPU bit for bit; a torch learner reports ``thread_safe = False`` and ``retrain`` runs its
replicates one after another (torch's global stream is shared between threads; torch
parallelises inside each operation instead).

Public objects:

* :class:`TorchLearner` — wraps a user's ``torch.nn.Module`` with their ``fit`` and ``sample``
  functions (warm-started: the module carries over from generation to generation, as the
  papers fine-tune the previous model);
* :class:`TorchGaussian` — :math:`N(\hat\mu,\hat\Sigma)` by maximum likelihood on the device;
* :class:`FlowLearner` — the reference 2-D generative network: a flow trained by
  conditional flow matching (an MLP velocity field), Adam steps each generation;
* :class:`DigitsVAE` — the generator of the digits miniature (a small variational
  auto-encoder on 8 × 8 images), and :func:`train_digits_classifier`,
  :func:`class_probability_reward`, :func:`confidence_reward` — the papers' classifier
  rewards :math:`\gamma\,q_c(x)` and :math:`\gamma\max_iq_i(x)`;
* :func:`torch_reward` — a torch module or callable as a reward on ``(N, d)`` numpy points;
* :func:`resolve_device`.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from selfconsume._validation import check_int, check_points, check_real

__all__ = [
    "TorchLearner",
    "TorchGaussian",
    "FlowLearner",
    "DigitsVAE",
    "torch_reward",
    "class_probability_reward",
    "confidence_reward",
    "train_digits_classifier",
    "classify",
    "load_digits_data",
    "resolve_device",
    "require_torch",
]

_INSTALL = ("the torch adapter needs torch: pip install 'selfconsume[torch]'; "
            "on a CPU-only machine first pip install torch==2.13.0 (a plain 'pip install torch' downloads the "
            "CUDA build, several GB)")


def require_torch():
    """The ``torch`` module, or an ImportError that says how to install it."""
    try:
        import torch
    except ImportError as exc:
        raise ImportError(_INSTALL) from exc
    return torch


def resolve_device(device=None):
    """A ``torch.device``: ``None`` → CUDA when present, else CPU; anything else must exist here.

    Raises ValueError naming ``device`` for an unknown name or a device this machine lacks.
    """
    torch = require_torch()
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(f"device must be None, 'cpu', 'cuda' or 'cuda:<index>'; got {device!r}") from exc
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} was asked for but CUDA is not available on this machine "
                             "(use device='cpu' or None)")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r} does not exist: this machine has {torch.cuda.device_count()} "
                             "CUDA device(s)")
        return dev
    if dev.type == "mps" and getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return dev
    raise ValueError(f"device must be 'cpu' or an available CUDA device; got {device!r}")


def _dtype(dtype):
    torch = require_torch()
    if dtype is None:
        return torch.float32
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype, None)
    if dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        raise ValueError(f"dtype must be a torch floating dtype (float32, float64, ...); got {dtype!r}")
    return dtype


def _seed_from(random_state) -> int:
    """One 63-bit seed drawn from the toolkit's generator (None: fresh entropy)."""
    return int(np.random.default_rng(random_state).integers(0, 2**63 - 1))


class _Seeded:
    """``with _Seeded(seed, device) as gen``: the global torch streams (CPU and ``device``) seeded with
    ``seed`` and restored afterwards; ``gen`` is a ``torch.Generator`` on ``device`` with the same seed."""

    def __init__(self, seed, device):
        self.seed, self.device = seed, device

    def __enter__(self):
        torch = require_torch()
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        self._fork = torch.random.fork_rng(devices=devices)
        self._fork.__enter__()
        # the CPU stream, and the device's (torch.manual_seed would also queue lazy seeds of every
        # uninitialised backend, recording a stack trace each time: 1 ms per call)
        torch.default_generator.manual_seed(self.seed)
        if self.device.type == "cuda":
            torch.cuda.manual_seed(self.seed)
        gen = torch.Generator(device=self.device)
        gen.manual_seed(self.seed)
        return gen

    def __exit__(self, *exc):
        return self._fork.__exit__(*exc)


class TorchLearner:
    """A torch model as a learner of :func:`~selfconsume.simulators.retrain`.

    Parameters
    ----------
    module : torch.nn.Module
        The model; moved to ``device`` and ``dtype``. It is deep-copied once per replicate
        (``clone``), then trained in place generation after generation (warm start).
    fit : callable
        ``fit(module, X, *, steps, generator)`` trains ``module`` on the tensor ``X`` (shape
        (n, d), on the device) for ``steps`` gradient steps (or epochs: the function decides
        what a step is; ``steps`` is passed through). Its return value is ignored.
    sample : callable
        ``sample(module, n, *, generator) -> Tensor`` of shape (n, d).
    log_prob : callable, optional
        ``log_prob(module, X) -> Tensor`` of shape (n,).
    steps : int
        Passed to ``fit`` each generation.
    first_steps : int, optional
        Passed instead of ``steps`` to the first fit of an untrained module (pretraining longer
        than each fine-tuning, the papers' protocol). A clone of a trained learner is trained:
        fit once, then hand it to ``retrain`` to share one pretrained model across replicates.
    device : str or torch.device, optional
        Default: CUDA when present, else CPU.
    dtype : torch.dtype or str, optional
        Default float32.

    Notes
    -----
    Every call runs under the global torch streams seeded from ``random_state`` (restored
    afterwards) and receives a ``torch.Generator`` with the same seed, so code that draws with
    ``torch.randn(..., generator=generator)`` and code that uses the global stream (dropout,
    ``torch.distributions``) are both reproducible from the toolkit's seed.

    Examples
    --------
    >>> import torch
    >>> def fit(m, X, *, steps, generator):
    ...     with torch.no_grad():
    ...         m.loc.copy_(X.mean(0)); m.scale.copy_(X.std(0))
    >>> def sample(m, n, *, generator):
    ...     return m.loc + m.scale * torch.randn(n, m.loc.numel(), generator=generator, device=m.loc.device)
    >>> class Diag(torch.nn.Module):
    ...     def __init__(self, d):
    ...         super().__init__()
    ...         self.loc, self.scale = torch.nn.Parameter(torch.zeros(d)), torch.nn.Parameter(torch.ones(d))
    >>> lrn = TorchLearner(Diag(2), fit, sample, steps=1, device="cpu")
    >>> lrn.fit(np.random.default_rng(0).normal(size=(100, 2)), random_state=1).sample(3, random_state=2).shape
    (3, 2)
    """

    #: torch's global stream is shared between threads: retrain runs the replicates one by one
    thread_safe = False

    def __init__(self, module, fit, sample, *, log_prob=None, steps=100, first_steps=None, device=None, dtype=None):
        torch = require_torch()
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"module must be a torch.nn.Module; got {type(module).__name__}")
        for name, fn in (("fit", fit), ("sample", sample)):
            if not callable(fn):
                raise TypeError(f"{name} must be a callable {name}(module, ...); got {fn!r}")
        if log_prob is not None and not callable(log_prob):
            raise TypeError(f"log_prob must be callable log_prob(module, X) or None; got {log_prob!r}")
        self._fit_fn, self._sample_fn, self._log_prob_fn = fit, sample, log_prob
        self._init_module(module, steps, device, dtype, first_steps)

    def _init_module(self, module, steps, device, dtype, first_steps=None):
        self.steps = check_int("steps", steps, min_value=0)
        self.first_steps = None if first_steps is None else check_int("first_steps", first_steps, min_value=0)
        self._trained = False  # survives clone(): a clone of a trained learner fine-tunes from its weights
        self.device = resolve_device(device)
        self.dtype = _dtype(dtype)
        self.module = module.to(device=self.device, dtype=self.dtype)

    # the three calls a subclass overrides (the reference models) instead of passing functions
    def _steps_now(self) -> int:
        """``first_steps`` for the first fit of an untrained module (when given), else ``steps``."""
        return self.steps if (self.first_steps is None or self._trained) else self.first_steps

    def _call_fit(self, X, gen):
        self._fit_fn(self.module, X, steps=self._steps_now(), generator=gen)

    def _call_sample(self, n, gen):
        return self._sample_fn(self.module, n, generator=gen)

    def _call_log_prob(self, X):
        if self._log_prob_fn is None:
            raise NotImplementedError(f"{type(self).__name__} was built without log_prob")
        return self._log_prob_fn(self.module, X)

    # -- protocol
    def clone(self):
        """A copy with its own deep copy of the module (as built, or as last trained)."""
        new = copy.copy(self)
        new.module = copy.deepcopy(self.module)
        for k in [k for k in vars(new) if k.endswith("_")]:
            delattr(new, k)
        return new

    def _tensor(self, X, name="X"):
        torch = require_torch()
        arr = check_points(name, X)
        if hasattr(self, "dim_") and arr.shape[1] != self.dim_:
            raise ValueError(f"{name} must have {self.dim_} columns (the fitted dimension); got shape {arr.shape}")
        return torch.as_tensor(arr, dtype=self.dtype, device=self.device)

    def fit(self, X, random_state=None):
        t = self._tensor(X)
        self.module.train()
        with _Seeded(_seed_from(random_state), self.device) as gen:
            self._call_fit(t, gen)
        self._trained = True
        self.dim_ = int(t.shape[1])
        return self

    def sample(self, n, random_state=None):
        torch = require_torch()
        self._check_fitted()
        n = check_int("n", n, min_value=0)
        self.module.eval()
        with torch.no_grad(), _Seeded(_seed_from(random_state), self.device) as gen:
            out = self._call_sample(n, gen)
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"sample must return a torch.Tensor; got {type(out).__name__}")
        if tuple(out.shape) != (n, self.dim_):
            raise ValueError(f"sample returned shape {tuple(out.shape)}; expected (n, d) = ({n}, {self.dim_})")
        arr = out.detach().to("cpu", torch.float64).numpy()
        if not np.all(np.isfinite(arr)):
            raise ValueError("sample returned non-finite values (NaN or inf): the model diverged; lower the "
                             "learning rate or the steps per generation")
        return arr

    def log_prob(self, X):
        torch = require_torch()
        self._check_fitted()
        t = self._tensor(X)
        self.module.eval()
        with torch.no_grad():
            out = self._call_log_prob(t)
        if tuple(out.shape) != (t.shape[0],):
            raise ValueError(f"log_prob returned shape {tuple(out.shape)}; expected ({t.shape[0]},)")
        return out.detach().to("cpu", torch.float64).numpy()

    def _check_fitted(self):
        if not hasattr(self, "dim_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit(X) first")

    def __repr__(self):
        return f"{type(self).__name__}(steps={self.steps}, device={str(self.device)!r}, dtype={self.dtype})"


# --------------------------------------------------------------------------- the torch Gaussian


def _gaussian_module(torch):
    class _Gaussian(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("loc", torch.zeros(0))
            self.register_buffer("chol", torch.zeros(0, 0))

    return _Gaussian()


class TorchGaussian(TorchLearner):
    r""":math:`N(\hat\mu,\hat\Sigma)` fitted by maximum likelihood on the device (the toolkit's
    :class:`~selfconsume.simulators.GaussianLearner`, in torch).

    Parameters
    ----------
    estimator : {"unbiased", "mle"}
        Covariance divisor n − 1 or n.
    device, dtype
        As :class:`TorchLearner`; default dtype float64 (the α(n)^t law is checked to 1e-3).

    Attributes (after ``fit``): ``mean_`` (d,), ``cov_`` (d, d) as numpy arrays (recorded by
    ``retrain`` every generation).
    """

    def __init__(self, estimator="unbiased", *, device=None, dtype="float64"):
        from selfconsume._validation import check_choice

        torch = require_torch()
        self.estimator = check_choice("estimator", estimator, ("unbiased", "mle"))
        self._init_module(_gaussian_module(torch), 0, device, dtype)

    def _call_fit(self, X, gen):
        torch = require_torch()
        m = self.module
        n, d = X.shape
        if n < 2:
            raise ValueError(f"X must have at least 2 points for a covariance; got {n}")
        loc = X.mean(dim=0)
        c = X - loc
        cov = c.T @ c / (n - 1 if self.estimator == "unbiased" else n)
        jitter = 0.0
        eye = torch.eye(d, dtype=X.dtype, device=X.device)
        while True:  # a collapsed fit (σ → 0) stays sampleable, as GaussianLearner
            L, info = torch.linalg.cholesky_ex(cov + jitter * eye)
            if int(info) == 0:
                break
            jitter = max(jitter * 10, float(torch.finfo(X.dtype).tiny))
        m.loc, m.chol = loc, L
        self.mean_ = loc.detach().to("cpu", torch.float64).numpy()
        self.cov_ = cov.detach().to("cpu", torch.float64).numpy()

    def _call_sample(self, n, gen):
        torch = require_torch()
        m = self.module
        z = torch.randn(n, m.loc.shape[0], generator=gen, dtype=m.loc.dtype, device=m.loc.device)
        return m.loc + z @ m.chol.T

    def _call_log_prob(self, X):
        torch = require_torch()
        m = self.module
        return torch.distributions.MultivariateNormal(m.loc, scale_tril=m.chol).log_prob(X)


# --------------------------------------------------------------------------- the reference flow


def _velocity_module(torch, d, hidden):
    layers, width = [], d + 1
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.SiLU()]
        width = h
    layers.append(torch.nn.Linear(width, d))
    return torch.nn.Sequential(*layers)


class FlowLearner(TorchLearner):
    r"""The reference 2-D generative network: a flow trained by conditional flow matching
    (Lipman et al. 2023; the straight-line path of Liu et al. 2023) — an MLP velocity field
    :math:`v_	heta(x,t)` regressed on :math:`x_1-x_0` at :math:`x_t=(1-t)x_0+tx_1`,
    :math:`x_0\sim N(0,I)`, :math:`x_1` the training data, :math:`t\sim U(0,1)`, by ``steps``
    Adam steps per generation on minibatches, warm-started from the previous generation.
    Sampling integrates :math:`\dot x=v_	heta(x,t)` from :math:`N(0,I)` with ``ode_steps``
    Heun steps.

    Parameters
    ----------
    dim : int
    hidden : tuple of int
        Hidden widths of the velocity MLP (SiLU activations).
    steps, batch_size, lr
        Adam steps per fit, minibatch size (drawn with the generator), learning rate.
    first_steps : int, optional
        Steps of the first fit of the untrained network (see :class:`TorchLearner`).
    ode_steps : int
        Heun steps of the sampler.
    seed : int
        Initial weights (built under this seed: two learners with the same seed start identical).
    device, dtype
        As :class:`TorchLearner`.

    Examples
    --------
    >>> from selfconsume.theory import ring_of_gaussians
    >>> f = FlowLearner(steps=5, device="cpu").fit(ring_of_gaussians().rvs(500, random_state=0), random_state=0)
    >>> f.sample(4, random_state=1).shape
    (4, 2)
    """

    def __init__(self, dim=2, *, hidden=(128, 128), steps=300, first_steps=None, batch_size=256, lr=2e-3,
                 ode_steps=32, seed=0, device=None, dtype=None):
        torch = require_torch()
        self.dim = check_int("dim", dim, min_value=1)
        self.hidden = tuple(check_int("hidden", h, min_value=1) for h in hidden)
        self.batch_size = check_int("batch_size", batch_size, min_value=1)
        self.lr = check_real("lr", lr, min_value=0.0, min_inclusive=False)
        self.ode_steps = check_int("ode_steps", ode_steps, min_value=1)
        with torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(check_int("seed", seed, min_value=0))
            net = _velocity_module(torch, self.dim, self.hidden)
        self._init_module(net, steps, device, dtype, first_steps)

    def _call_fit(self, X, gen):
        torch = require_torch()
        if X.shape[1] != self.dim:
            raise ValueError(f"X must have dim = {self.dim} columns; got shape {tuple(X.shape)}")
        net = self.module
        steps = self._steps_now()
        opt = torch.optim.Adam(net.parameters(), lr=self.lr)
        n = X.shape[0]
        b = min(self.batch_size, n)
        kw = dict(generator=gen, dtype=X.dtype, device=X.device)
        loss = None
        for _ in range(steps):
            x1 = X[torch.randint(n, (b,), generator=gen, device=X.device)]
            x0 = torch.randn(x1.shape, **kw)
            t = torch.rand((b, 1), **kw)
            v = net(torch.cat([(1 - t) * x0 + t * x1, t], dim=1))
            loss = ((v - (x1 - x0)) ** 2).sum(dim=1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if loss is not None and not math.isfinite(float(loss.detach())):
            raise ValueError("FlowLearner: the loss became non-finite; lower lr")

    def _call_sample(self, n, gen):
        torch = require_torch()
        net = self.module
        p = next(net.parameters())
        x = torch.randn((n, self.dim), generator=gen, dtype=p.dtype, device=p.device)
        h = 1.0 / self.ode_steps
        for i in range(self.ode_steps):  # Heun's method on dx/dt = v(x, t)
            t = torch.full((n, 1), i * h, dtype=p.dtype, device=p.device)
            k1 = net(torch.cat([x, t], dim=1))
            k2 = net(torch.cat([x + h * k1, t + h], dim=1))
            x = x + 0.5 * h * (k1 + k2)
        return x


# --------------------------------------------------------------------------- rewards


def torch_reward(fn, *, gamma=1.0, device=None, dtype=None, batch_size=65536, name=None):
    r"""A torch module or callable as a reward on ``(N, d)`` numpy points: :math:`\gamma\,f(x)`.

    ``fn`` maps a tensor ``(N, d)`` (on ``device``, ``dtype``) to ``N`` values; it runs without
    gradients, in batches of ``batch_size`` rows. The result is a
    :class:`~selfconsume.theory.Reward` (checked on every call: shape and finiteness).
    """
    from selfconsume.theory import as_reward

    torch = require_torch()
    if not callable(fn):
        raise TypeError(f"fn must be a torch module or a callable on an (N, d) tensor; got {fn!r}")
    gamma = check_real("gamma", gamma)
    batch_size = check_int("batch_size", batch_size, min_value=1)
    dev, dt = resolve_device(device), _dtype(dtype)
    if isinstance(fn, torch.nn.Module):
        fn = fn.to(device=dev, dtype=dt).eval()

    def reward(x):
        arr = check_points("x", x)
        out = np.empty(arr.shape[0])
        with torch.no_grad():
            for a in range(0, arr.shape[0], batch_size):
                v = fn(torch.as_tensor(arr[a:a + batch_size], dtype=dt, device=dev))
                v = v.detach().to("cpu", torch.float64).numpy() if isinstance(v, torch.Tensor) else np.asarray(v)
                if v.shape != (min(batch_size, arr.shape[0] - a),):
                    raise ValueError(f"the reward function returned shape {v.shape}; expected "
                                     f"({min(batch_size, arr.shape[0] - a)},): one value per point")
                out[a:a + batch_size] = v
        return gamma * out

    return as_reward(reward, name=name or f"{gamma:g}·{getattr(fn, '__name__', type(fn).__name__)}")


def class_probability_reward(classifier, c, *, gamma=1.0, device=None):
    r""":math:`\gamma\,q_c(x)`: the classifier's probability of class ``c`` (Ferbach et al.'s single-class reward)."""
    torch = require_torch()
    c = check_int("c", c, min_value=0)

    def q_c(x):
        logits = classifier(x)
        if c >= logits.shape[1]:
            raise ValueError(f"c must be < the number of classes {logits.shape[1]}; got {c}")
        return torch.softmax(logits, dim=1)[:, c]

    return torch_reward(q_c, gamma=gamma, device=device, name=f"{gamma:g}·q_{c}")


def confidence_reward(classifier, *, gamma=1.0, device=None):
    r""":math:`\gamma\max_iq_i(x)`: the classifier's confidence (Ferbach et al.'s confidence reward)."""
    torch = require_torch()

    def q_max(x):
        return torch.softmax(classifier(x), dim=1).max(dim=1).values

    return torch_reward(q_max, gamma=gamma, device=device, name=f"{gamma:g}·max_i q_i")


# --------------------------------------------------------------------------- the digits miniature


def load_digits_data():
    """scikit-learn's ``load_digits``: images as rows in [0, 1] (1797, 64) and labels (1797,)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data / 16.0, d.target.astype(np.int64)


def train_digits_classifier(X, y, *, epochs=60, hidden=128, lr=3e-3, seed=0, device=None, test_fraction=0.25):
    """A small MLP classifier (64 → hidden → 10) trained once as the reward; returns
    ``(classifier, held-out accuracy)``. Deterministic given ``seed`` on CPU."""
    torch = require_torch()
    X = check_points("X", X)
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},); got {y.shape}")
    dev = resolve_device(device)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(X.shape[0])
    n_test = int(round(test_fraction * X.shape[0]))
    te, tr = perm[:n_test], perm[n_test:]
    k = int(y.max()) + 1
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], hidden), torch.nn.ReLU(),
                                  torch.nn.Linear(hidden, k)).to(dev)
        opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=1e-4)
        Xt = torch.as_tensor(X, dtype=torch.float32, device=dev)
        yt = torch.as_tensor(y, device=dev)
        gen = torch.Generator(device=dev)
        gen.manual_seed(seed)
        tr_t = torch.as_tensor(tr, device=dev)
        for _ in range(epochs):
            order = tr_t[torch.randperm(tr_t.numel(), generator=gen, device=dev)]
            for a in range(0, order.numel(), 128):
                b = order[a:a + 128]
                loss = torch.nn.functional.cross_entropy(net(Xt[b]), yt[b])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        net.eval()
        with torch.no_grad():
            acc = float((net(Xt[torch.as_tensor(te, device=dev)]).argmax(1) == yt[torch.as_tensor(te, device=dev)])
                        .float().mean()) if n_test else float("nan")
    for p in net.parameters():
        p.requires_grad_(False)
    return net, acc


def classify(classifier, X, *, batch_size=65536) -> np.ndarray:
    """The predicted class (argmax of the logits) of every row of ``X``, on the classifier's device."""
    torch = require_torch()
    X = check_points("X", X)
    p = next(classifier.parameters())
    out = np.empty(X.shape[0], dtype=np.int64)
    with torch.no_grad():
        for a in range(0, X.shape[0], batch_size):
            x = torch.as_tensor(X[a:a + batch_size], dtype=p.dtype, device=p.device)
            out[a:a + batch_size] = classifier(x).argmax(dim=1).cpu().numpy()
    return out


def _vae_module(torch, d, hidden, latent):
    class _VAE(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.ReLU(),
                                           torch.nn.Linear(hidden, 2 * latent))
            self.dec = torch.nn.Sequential(torch.nn.Linear(latent, hidden), torch.nn.ReLU(),
                                           torch.nn.Linear(hidden, d))
            self.latent = latent

    return _VAE()


class DigitsVAE(TorchLearner):
    r"""The generator of the digits miniature: a variational auto-encoder (64 → hidden → latent,
    Gaussian decoder with a learned per-pixel noise scale ``noise``) trained by ``steps`` Adam
    steps per generation on minibatches, warm-started. A sample decodes :math:`z\sim N(0,I)`
    and adds the decoder noise, so the model is a proper density whose retraining can drift.

    Parameters
    ----------
    dim, hidden, latent
        Image size (64 for 8 × 8), hidden width, latent dimension.
    noise : float
        Standard deviation of the Gaussian decoder (fixed).
    steps, first_steps, batch_size, lr, seed, device, dtype
        As :class:`FlowLearner`.
    """

    def __init__(self, dim=64, *, hidden=256, latent=16, noise=0.1, steps=300, first_steps=1500, batch_size=128,
                 lr=2e-3, seed=0, device=None, dtype=None):
        torch = require_torch()
        self.dim = check_int("dim", dim, min_value=1)
        self.noise = check_real("noise", noise, min_value=0.0, min_inclusive=False)
        self.batch_size = check_int("batch_size", batch_size, min_value=1)
        self.lr = check_real("lr", lr, min_value=0.0, min_inclusive=False)
        with torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(check_int("seed", seed, min_value=0))
            mod = _vae_module(torch, self.dim, check_int("hidden", hidden, min_value=1),
                              check_int("latent", latent, min_value=1))
        self._init_module(mod, steps, device, dtype, first_steps)

    def _call_fit(self, X, gen):
        torch = require_torch()
        m, steps, generator = self.module, self._steps_now(), gen
        if X.shape[1] != self.dim:
            raise ValueError(f"X must have dim = {self.dim} columns; got shape {tuple(X.shape)}")
        opt = torch.optim.Adam(m.parameters(), lr=self.lr)
        n = X.shape[0]
        b = min(self.batch_size, n)
        inv2s2 = 0.5 / self.noise**2
        for _ in range(steps):
            x = X[torch.randint(n, (b,), generator=generator, device=X.device)]
            mu, logvar = m.enc(x).chunk(2, dim=1)
            z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator, dtype=mu.dtype,
                                                          device=mu.device)
            rec = inv2s2 * ((m.dec(z) - x) ** 2).sum(dim=1)
            kl = 0.5 * (mu**2 + logvar.exp() - 1.0 - logvar).sum(dim=1)
            loss = (rec + kl).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if steps and not math.isfinite(float(loss.detach())):
            raise ValueError("DigitsVAE: the loss became non-finite; lower lr")

    def _call_sample(self, n, gen):
        torch = require_torch()
        m = self.module
        p = next(m.parameters())
        z = torch.randn(n, m.latent, generator=gen, dtype=p.dtype, device=p.device)
        x = m.dec(z)
        return x + self.noise * torch.randn(x.shape, generator=gen, dtype=x.dtype, device=x.device)

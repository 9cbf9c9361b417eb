"""``selfconsume verify``: run every registered claim, print a table, write reports."""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from selfconsume._io import atomic_write

from ._coverage import claim_checks, theory_coverage
from ._registry import ClaimResult
from .claims import get_claim, list_claims, run_claim

__all__ = ["VerifyReport", "verify"]


@dataclass(frozen=True)
class VerifyReport:
    """Results of a verify run (possibly partial, if interrupted)."""

    results: tuple[ClaimResult, ...]
    budget: str
    seed: int
    seconds: float
    interrupted: bool = False
    backend: str = "numpy"

    @property
    def passed(self) -> bool:
        """Every claim passed, the run was not interrupted, and there was at least one claim."""
        return not self.interrupted and len(self.results) > 0 and all(r.passed for r in self.results)

    def summary_frame(self) -> pd.DataFrame:
        return pd.DataFrame([r.summary() for r in self.results])

    def to_frame(self) -> pd.DataFrame:
        """Every comparison of every claim, one row each (tidy)."""
        frames = [r.to_frame() for r in self.results if r.rows]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def table(self) -> str:
        """The console table: one line per claim."""
        lines = [f"{'claim':<34} {'verdict':<7} {'rows':>4} {'fail':>4} {'sec':>6}  worst comparison"]
        for r in self.results:
            worst = _worst_row(r)
            lines.append(f"{r.claim.id:<34} {r.verdict:<7} {len(r.rows):>4} "
                         f"{sum(not x.passed for x in r.rows):>4} {r.seconds:>6.2f}  {worst}")
        n_pass = sum(r.passed for r in self.results)
        tail = " (INTERRUPTED: partial)" if self.interrupted else ""
        lines.append(f"{n_pass}/{len(self.results)} claims passed in {self.seconds:.1f} s "
                     f"(backend={self.backend}, budget={self.budget}, seed={self.seed}){tail}")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        out = [
            "# selfconsume verify report",
            "",
            f"- backend: `{self.backend}`, budget: `{self.budget}`, seed: `{self.seed}`, wall time: {self.seconds:.1f} s"
            + (" — **interrupted, partial report**" if self.interrupted else ""),
            f"- verdict: **{'PASS' if self.passed else 'FAIL'}** "
            f"({sum(r.passed for r in self.results)}/{len(self.results)} claims)",
            f"- machine: {platform.platform()}, Python {platform.python_version()}",
            "",
            "Statistical comparisons pass when the prediction lies in measured ± z·SE, with z the",
            "two-sided Bonferroni quantile for the claim's number of comparisons at the family level",
            "of a single 5-SE test (z = 5 for one comparison). `mde` is each row's minimal detectable",
            "relative effect: the smallest relative error in the prediction it detects with probability ≥ 0.9.",
            "",
            "| claim | verdict | comparisons | failed | seconds | source |",
            "|---|---|---:|---:|---:|---|",
        ]
        for r in self.results:
            out.append(f"| `{r.claim.id}` | {r.verdict} | {len(r.rows)} | {sum(not x.passed for x in r.rows)} "
                       f"| {r.seconds:.2f} | {markdown_cell(r.claim.source)} |")
        out += self._power_and_coverage()
        for r in self.results:
            c = r.claim
            out += ["", f"## `{c.id}` — {c.title}", "", f"*Source:* {c.source}", "", f"*Statement:* {c.statement}", ""]
            checks = claim_checks(c)
            if checks:
                out += ["*Checks (public theory functions):* " + ", ".join(f"`{x}`" for x in checks), ""]
            if c.assumptions:
                out.append("*Assumptions:* " + "; ".join(c.assumptions))
                out.append("")
            if r.error:
                out += [f"**ERROR:** `{r.error}`", ""]
                continue
            out += ["| quantity | predicted | measured | CI low | CI high | relation | kind | ok | mde | note |",
                    "|---|---:|---:|---:|---:|:---:|---|:---:|---:|---|"]
            for x in r.rows:
                out.append(f"| {markdown_cell(x.quantity)} | {_fmt(x.predicted)} | {_fmt(x.measured)} | {_fmt(x.ci_low)} "
                           f"| {_fmt(x.ci_high)} | {x.relation} | {x.kind} | {'✓' if x.passed else '✗'} "
                           f"| {_fmt_pct(x.mde)} | {markdown_cell(x.note)} |")
        return "\n".join(out) + "\n"

    def to_json(self) -> dict:
        return {
            "backend": self.backend,
            "budget": self.budget,
            "seed": self.seed,
            "seconds": self.seconds,
            "interrupted": self.interrupted,
            "passed": self.passed,
            "claims": [
                {
                    **r.summary(),
                    "checks": list(claim_checks(r.claim)),
                    "statement": r.claim.statement,
                    "assumptions": list(r.claim.assumptions),
                    "tags": list(r.claim.tags),
                    "rows": [{k: _json_num(v) for k, v in x.__dict__.items()} for x in r.rows],
                }
                for r in self.results
            ],
        }

    def _power_and_coverage(self) -> list[str]:
        """The largest minimal detectable effects of the run, and the public theory functions no claim run checks."""
        rows = [(x.mde, r.claim.id, x.quantity) for r in self.results for x in r.rows]
        out = ["", "## Power and coverage", ""]
        if rows:
            finite = sorted((v for v in rows if math.isfinite(v[0])), reverse=True)
            n_inf = len(rows) - len(finite)
            out.append(f"- minimal detectable relative effect (mde): median "
                       f"{_fmt_pct(float(np.median([v[0] for v in finite]))) if finite else '—'}, "
                       f"{sum(v[0] <= 0.01 for v in finite)} of {len(rows)} rows detect a 1% error; "
                       f"{n_inf} rows have no relative scale (a prediction of 0: their CI is the absolute resolution)")
            for v, cid, q in finite[:5]:
                out.append(f"  - largest: {_fmt_pct(v)} — `{cid}`: {markdown_cell(q)}")
        cov = theory_coverage([r.claim for r in self.results])
        unchecked = [k for k, v in cov.items() if not v]
        out.append(f"- public theory functions checked by a claim of this run: {len(cov) - len(unchecked)} of {len(cov)}"
                   + (f"; unchecked: {', '.join(f'`{k}`' for k in unchecked)}" if unchecked else ""))
        return out

    @property
    def stem(self) -> str:
        """File stem of the reports: ``verify`` (numpy backend) or ``verify_<backend>``."""
        return "verify" if self.backend == "numpy" else f"verify_{self.backend}"

    def write(self, out_dir) -> tuple[Path, Path]:
        """Write ``<stem>.md`` and ``<stem>.json`` into ``out_dir``, each atomically (a reader, or an
        interrupted write, sees the old file or the new one, never half of one)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        md, js = out / f"{self.stem}.md", out / f"{self.stem}.json"
        _write_atomic(md, self.to_markdown())
        _write_atomic(js, json.dumps(self.to_json(), indent=2))
        return md, js


def _write_atomic(path: Path, text: str) -> None:
    """``path.write_text(text)`` atomically (:func:`selfconsume._io.atomic_write`)."""
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def check_out_dir(out_dir, name: str = "out_dir") -> Path:
    """``out_dir`` as a Path, once it is known to be a folder this process can create and write.

    Creates the folder (and its parents) and a temporary file in it, so that a report is not lost
    after a long run because of a bad path; raises ``ValueError`` naming ``name`` otherwise.
    """
    if not isinstance(out_dir, (str, os.PathLike)) or not str(out_dir):
        raise TypeError(f"{name} must be a path to a folder (str or os.PathLike); got {out_dir!r}")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test.{os.getpid()}.{threading.get_ident()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = "it is an existing file" if out.exists() and not out.is_dir() else (exc.strerror or str(exc))
        raise ValueError(f"{name} must be a folder that can be created and written; {str(out)!r} cannot: "
                         f"{reason}") from None
    return out


@contextlib.contextmanager
def sigint_ignored(active: bool = True):
    """Ignore SIGINT (Ctrl-C) inside the block, restoring the previous handler after it.

    Used once a run has been interrupted: a second Ctrl-C must not lose the partial report while
    it is written. A no-op when not ``active`` or off the main thread (where handlers cannot be set).
    """
    if not active or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old if old is not None else signal.default_int_handler)


def markdown_cell(text: str) -> str:
    """Text safe inside a Markdown table cell (a literal | would split the cell)."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _fmt_pct(v: float) -> str:
    """A relative effect as a percentage (``inf`` when undefined)."""
    if not math.isfinite(v):
        return "∞"
    return f"{100 * v:.2g}%"


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    a = abs(v)
    return f"{v:.6g}" if 1e-4 <= a < 1e6 else f"{v:.4e}"


def _json_num(v):
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if isinstance(v, (np.floating, np.integer, np.bool_)):
        return v.item()
    return v


def _worst_row(r: ClaimResult) -> str:
    if r.error:
        return r.error[:60]
    if not r.rows:
        return "(no comparisons)"
    failing = [x for x in r.rows if not x.passed]
    x = failing[0] if failing else r.rows[-1]
    return f"{x.quantity}: pred {_fmt(x.predicted)} {x.relation} meas {_fmt(x.measured)} [{_fmt(x.ci_low)}, {_fmt(x.ci_high)}]"[:110]


def verify(claims=None, *, budget: str = "quick", seed: int = 0, progress: bool = False, workers=None,
           out_dir=None, echo=None, backend: str = "numpy", jobs: int = 1) -> VerifyReport:
    """Run claims (all of ``backend`` by default) and return a :class:`VerifyReport`.

    ``backend="torch"`` runs the torch adapter's claims (``torch.*``; needs torch, see the
    README) and writes ``verify_torch.md``/``.json``.

    ``jobs``: processes. With 1 (the default) the claims run one after another in this process.
    With more, each area of claims (``gauss``, ``mixing``, ...) goes to the next free child
    process (spawned; each with ``workers`` threads, by default its share of the cores), so the
    Numba compilation of a fresh install — most of a cold run — is shared out too. Every claim
    draws from its own stream of ``seed``, so the numbers do not depend on ``jobs`` or ``workers``.

    Each finished result is kept, so a ``KeyboardInterrupt`` returns (and writes, when
    ``out_dir`` is given) a partial report instead of losing it; while that report is written, a
    second Ctrl-C is ignored. ``echo``: optional callable receiving one line per finished claim.

    ``claims``: ids or :class:`Claim` objects (a single id is one claim), each at most once; an
    empty selection is an error. ``out_dir`` is checked (created, and a file written in it)
    before any claim runs.
    """
    from selfconsume._validation import check_choice, check_int

    from ._registry import BUDGETS, Claim
    from .claims import load_backend

    jobs = check_int("jobs", jobs, min_value=1)
    budget = check_choice("budget", budget, BUDGETS)
    seed = check_int("seed", seed, min_value=0)
    if workers is not None:
        workers = check_int("workers", workers, min_value=1)
    if echo is not None and not callable(echo):
        raise TypeError(f"echo must be a callable taking one line, or None; got {echo!r}")
    load_backend(backend)
    if claims is None:
        selected = list_claims(backend=backend)
    else:
        if isinstance(claims, (str, Claim)):
            claims = [claims]
        try:
            claims = list(claims)
        except TypeError:
            raise TypeError(f"claims must be a list of claim ids or Claim objects, or None (all); "
                            f"got {claims!r}") from None
        for c in claims:
            if not isinstance(c, (str, Claim)):
                raise TypeError(f"claims must hold claim ids (str) or Claim objects; got {c!r}")
        selected = [c if not isinstance(c, str) else get_claim(c) for c in claims]
        ids = [c.id for c in selected]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"claims must name each claim at most once; repeated: {', '.join(repeated)}")
    if not selected:
        raise ValueError(f"claims must select at least one claim (ids from list_claims(backend={backend!r})); "
                         f"got an empty selection")
    if out_dir is not None:
        out_dir = check_out_dir(out_dir)
    t0 = time.perf_counter()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(selected), desc="verify", unit="claim")

    def finished(res):
        if echo is not None:
            echo(f"{res.verdict:<5} {res.claim.id} ({res.seconds:.2f} s)")
        if bar is not None:
            bar.set_postfix_str(res.claim.id)
            bar.update(1)

    try:
        if jobs == 1 or len(selected) < 2:
            results, interrupted = _run_serial(selected, budget, seed, workers, finished)
        else:
            results, interrupted = _run_processes(selected, budget, seed, workers, backend, jobs, finished)
    except BaseException:
        if bar is not None:
            bar.close()
        raise
    with sigint_ignored(interrupted):  # after a first Ctrl-C, a second one must not lose the partial report
        if bar is not None:
            bar.close()
        rep = VerifyReport(tuple(results), budget, seed, time.perf_counter() - t0, interrupted, backend)
        if out_dir is not None:
            rep.write(out_dir)
    return rep


def _run_serial(selected, budget, seed, workers, finished):
    results = []
    try:
        for c in selected:
            res = run_claim(c, budget=budget, seed=seed, workers=workers)
            results.append(res)
            finished(res)
    except KeyboardInterrupt:
        return results, True
    return results, False


_CHILD_QUEUE = None


def _child_init(queue):
    global _CHILD_QUEUE
    _CHILD_QUEUE = queue


def _child_run(ids, budget, seed, workers, backend):
    """In a child process: run the claims ``ids`` in order, sending each result as it finishes."""
    from .claims import load_backend

    load_backend(backend)
    for cid in ids:
        res = run_claim(get_claim(cid), budget=budget, seed=seed, workers=workers)
        _CHILD_QUEUE.put((cid, res.rows, res.seconds, res.error))
    return len(ids)


#: Seconds per area of a cold quick run (fresh clone, 2 cores, Numba compilation included): only the
#: order in which the areas are handed to the processes, never the results.
_AREA_COLD_SECONDS = {"peers": 48.8, "continuous": 27.3, "gauss": 9.5, "mixing": 8.2, "curation": 8.2, "stability": 6.2,
                      "mad": 3.8}


def _run_processes(selected, budget, seed, workers, backend, jobs, finished):
    """The claims by area on ``jobs`` spawned processes; results in the order of ``selected``."""
    import multiprocessing as mp
    import os
    import queue as queue_mod
    from concurrent.futures import ProcessPoolExecutor

    areas: dict[str, list[str]] = {}
    for c in selected:
        areas.setdefault(c.id.split(".")[0], []).append(c.id)
    # longest first (a cold run's seconds per area, measured on a fresh clone; unknown areas last):
    # the next free process takes the next area, so the run ends close to total/jobs
    areas = dict(sorted(areas.items(), key=lambda kv: -_AREA_COLD_SECONDS.get(kv[0], 0.0)))
    jobs = min(jobs, len(areas))
    if workers is None:
        workers = max(1, (os.cpu_count() or 1) // jobs)
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    done: dict[str, ClaimResult] = {}
    interrupted = False
    ex = ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_child_init, initargs=(q,))
    futures = {ex.submit(_child_run, ids, budget, seed, workers, backend): ids for ids in areas.values()}

    def take(item):
        cid, rows, secs, err = item
        res = ClaimResult(get_claim(cid), budget, seed, tuple(rows), secs, err)
        done[cid] = res
        finished(res)

    try:
        while len(done) < len(selected):
            try:
                take(q.get(timeout=0.2))
                continue
            except queue_mod.Empty:
                pass
            for f, ids in futures.items():  # a child that died or raised: its unfinished claims are errors
                if f.done() and f.exception() is not None and any(i not in done for i in ids):
                    while True:  # what it sent before dying is kept
                        try:
                            take(q.get_nowait())
                        except queue_mod.Empty:
                            break
                    for i in ids:
                        if i not in done:
                            res = ClaimResult(get_claim(i), budget, seed, (), 0.0,
                                              f"child process failed: {type(f.exception()).__name__}: {f.exception()}")
                            done[i] = res
                            finished(res)
    except KeyboardInterrupt:
        interrupted = True
        while True:
            try:
                take(q.get(timeout=0.5))
            except (queue_mod.Empty, KeyboardInterrupt):
                break
    finally:
        if interrupted:  # stop the children now (a terminal's Ctrl-C reaches them too; a kill may not)
            procs = list((getattr(ex, "_processes", None) or {}).values())
            ex.shutdown(wait=False, cancel_futures=True)
            for proc in procs:
                proc.terminate()
        else:
            ex.shutdown(wait=True)
    return [done[c.id] for c in selected if c.id in done], interrupted


def claims_table_markdown() -> str:
    """The README's claims table, generated from the registry."""
    lines = ["| claim | statement | source |", "|---|---|---|"]
    for c in list_claims():
        lines.append(f"| `{c.id}` | {markdown_cell(c.title)} | {markdown_cell(c.source)} |")
    return "\n".join(lines)


def update_readme(path="README.md") -> bool:
    """Rewrite the claims table between the README's ``claims-table`` markers; True if changed."""
    import re
    from pathlib import Path

    p = Path(path)
    text = p.read_text()
    table = "<!-- claims-table:start -->\n" + claims_table_markdown() + "\n<!-- claims-table:end -->"
    new = re.sub(r"<!-- claims-table:start -->.*?<!-- claims-table:end -->", lambda m: table, text, flags=re.S)
    if new != text:
        p.write_text(new)
    return new != text


if __name__ == "__main__":  # python -m selfconsume.analysis._verify: refresh the README table
    print("README updated" if update_readme() else "README already current")

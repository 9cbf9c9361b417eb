"""The ``selfconsume`` command line: parses options and calls library functions.

Every argument is checked before any work starts (names against the registries, output
folders created and written to): a bad one is a usage error (exit status 2, one line).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["main"]


def _cmd_verify(args) -> int:
    from selfconsume.analysis import list_claims, verify
    from selfconsume.analysis._verify import sigint_ignored

    try:
        if args.list:
            for c in list_claims(backend=args.backend):
                print(f"{c.id:<36} {c.title}  [{c.source}]")
            return 0
        claims = list(dict.fromkeys(args.claim)) if args.claim else None  # each claim once
        quiet = args.quiet
        jobs = args.jobs
        if jobs is None:  # two processes share a cold start's compilation; torch claims stay in one
            jobs = min(2, os.cpu_count() or 1) if args.backend == "numpy" and not claims else 1
        rep = verify(claims, budget=args.budget, seed=args.seed, progress=not quiet, workers=args.workers,
                     out_dir=args.out, echo=None, backend=args.backend, jobs=jobs)
    except ImportError as exc:  # --backend torch without torch: say how to install it
        print(f"selfconsume verify --backend {args.backend}: {exc}", file=sys.stderr)
        return 2
    with sigint_ignored(rep.interrupted):  # interrupted once: a second Ctrl-C must not cut the summary
        print(rep.table())
        print(f"reports: {Path(args.out) / (rep.stem + '.md')}, {Path(args.out) / (rep.stem + '.json')}")
    if rep.interrupted:
        return 130
    return 0 if rep.passed else 1


def _cmd_figures(args) -> int:
    from selfconsume.analysis import cached_table
    from selfconsume.paper_figures import get_figure, list_figures, load_verify, render, set_style, write_index

    set_style()
    figs = [get_figure(s) for s in args.figure] if args.figure else list_figures()
    skipped = [(f, f.missing()) for f in figs if f.missing()]
    if skipped and args.figure:  # asked for by name: an error
        for f, miss in skipped:
            print(f"figure {f.slug} needs {', '.join(miss)}: pip install 'selfconsume[torch]' (on a CPU-only "
                  "machine first pip install torch==2.13.0)", file=sys.stderr)
        return 2
    figs = [f for f in figs if not f.missing()]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    verify = load_verify()  # reports/verify.json and verify_torch.json, when present: the claims' verdicts
    bar = None
    if not args.quiet:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(figs), desc="figures", unit="fig")
    try:
        for spec in figs:
            if bar is not None:
                bar.set_postfix_str(spec.slug)
            quick = args.budget == "quick"
            table = cached_table(spec.slug, lambda quick, spec=spec: spec.table(quick=quick), {"quick": quick},
                                 directory=args.cache, refresh=args.refresh)
            render(spec, table, out, budget=args.budget, verify=verify)
            if bar is not None:
                bar.update(1)
            else:
                print(f"wrote {out / spec.slug}.png/.pdf/.caption.md")
    except KeyboardInterrupt:
        print("interrupted: figures written so far are kept", file=sys.stderr)
        write_index(out)
        return 130
    finally:
        if bar is not None:
            bar.close()
    index = write_index(out)
    print(f"{len(figs)} figures in {out}/ (PNG, PDF and caption), index: {index}")
    for f, miss in skipped:
        print(f"skipped {f.slug}: needs {', '.join(miss)} (pip install 'selfconsume[torch]'; on a CPU-only machine "
              "first pip install torch==2.13.0)")
    return 0


def _cmd_bench(args) -> int:
    from selfconsume.benchmarks import run_benchmarks, write_report

    df = run_benchmarks(quick=not args.full, workers=args.workers, progress=not args.quiet, only=args.only or None)
    paths = write_report(df, args.out)
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 48):
        print(df.drop(columns=[c for c in ("notes",) if c in df.columns]).to_string(index=False))
    print("reports:", ", ".join(str(p) for p in paths))
    return 0


def _cmd_selftest(args) -> int:
    from selfconsume.analysis._selftest import MUTANTS, SOURCE_MUTANTS, get_mutant, run_selftest

    if args.list:
        for m in MUTANTS + SOURCE_MUTANTS:
            print(f"{m.name:<38} {m.kind:<9} {m.mistake}  [claims: {', '.join(m.claims)}]")
        return 0
    try:
        names = [get_mutant(n).name for n in args.mutant] if args.mutant else None
    except ValueError as exc:
        print(f"selfconsume selftest: {exc}", file=sys.stderr)
        return 2
    df = run_selftest(names, budget=args.budget, seed=args.seed, progress=not args.quiet, source=args.source)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "selftest.csv", index=False)
    caught = int(df["caught"].sum()) if len(df) else 0
    for _, r in df.iterrows():
        mark = "caught  " if r["caught"] else "SURVIVED"
        print(f"{mark} {r['mutant']:<38} {r['seconds']:6.2f} s  {r['caught_by'] or r.get('error') or r['mistake']}")
    tail = " (INTERRUPTED: partial)" if df.attrs.get("interrupted") else ""
    print(f"score: {caught}/{len(df)} mutants caught{tail}; table: {out / 'selftest.csv'}")
    if df.attrs.get("interrupted"):
        return 130
    return 0 if caught == len(df) else 1


def _cmd_sweep(args) -> int:
    from selfconsume.analysis import sweep
    from selfconsume.analysis._verify import sigint_ignored

    cfg, plan = args.sweep_config, args.sweep_plan
    try:
        df = sweep(cfg["cell"], cfg["grid"], reps=cfg["reps"], rng=plan.root, out=args.out,
                   scheduler=args.scheduler, progress=not args.quiet)
    except KeyboardInterrupt:
        with sigint_ignored():  # a second Ctrl-C must not cut the message
            done = len(plan.finished())
            again = f"selfconsume sweep {args.config} --resume --out {args.out}"
            print(f"interrupted: {done} of {len(plan.cells)} cells finished and kept in {plan.folder}/; "
                  f"continue with: {again}", file=sys.stderr)
        return 130
    except (ImportError, ValueError) as exc:  # no dask/pyarrow; an unreachable scheduler
        print(f"selfconsume sweep: {exc}", file=sys.stderr)
        return 2
    info = df.attrs["sweep"]
    print(f"{len(plan.cells)} cells ({info['computed']} computed now), {len(df)} rows in {info['seconds']:.1f} s; "
          f"root seed entropy {plan.root.entropy}")
    folder = Path(info["folder"])
    print(f"table: {folder / 'table.parquet'} (cells in {folder / 'cells'}/)")
    from selfconsume.paper_figures.sweep_figures import draw_sweep_figures, rate_summary, rates_markdown

    try:
        rates = rate_summary(df, cfg)
        if not rates.empty:  # fitted rates against theory rates, where a theory rate exists
            rates.to_csv(folder / "rates.csv", index=False)
            (folder / "rates.md").write_text(rates_markdown(rates), encoding="utf-8")
            ok = int(rates["consistent"].sum())
            print(f"rates: {ok} of {len(rates)} fitted rates consistent with theory "
                  f"(ratio fitted/theory {rates['ratio'].min():.4f} to {rates['ratio'].max():.4f}); "
                  f"{folder / 'rates.md'}, {folder / 'rates.csv'}")
            for _, r in rates[~rates["consistent"].astype(bool)].iterrows():
                cell = ", ".join(f"{k}={r[k]}" for k in ("d", "n", "workflow", "estimator") if k in r.index)
                print(f"  outside its interval: {r['statistic']} at {cell}: ratio {r['ratio']:.4f} "
                      f"[{r['ratio_ci_low']:.4f}, {r['ratio_ci_high']:.4f}]")
        if not args.no_figures:
            paths = draw_sweep_figures(df, cfg, folder / "figures", rates=rates)
            if paths:
                print(f"{len(paths) // 3} figures in {folder / 'figures'}/ (PNG, PDF and caption)")
            else:
                print(f"no figures for cell {cfg['cell']!r}")
    except Exception as exc:  # the table is on disk: report and keep it  # noqa: BLE001
        print(f"selfconsume sweep: drawing the figures or rates failed ({type(exc).__name__}: {exc}); "
              f"the table is intact", file=sys.stderr)
        return 1
    return 0


def _int_at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= {low}; got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be an integer >= {low}; got {value}")
    return value


def _positive_int(text: str) -> int:
    return _int_at_least(text, 1)


def _nonnegative_int(text: str) -> int:
    return _int_at_least(text, 0)


# Checks of the arguments that need more than their own text (registries, the file system), run
# after parsing and before any work; a ValueError becomes a usage error of the command.

def _check_out(option: str, path) -> None:
    from selfconsume.analysis._verify import check_out_dir

    try:
        check_out_dir(path, name=option)
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def _check_names(option: str, given, known, what: str, *, substring: bool = False, hint: str = "") -> None:
    """Each of ``given`` is one of ``known`` (or, with ``substring``, contained in one of them)."""
    for name in given:
        ok = any(name in k for k in known) if substring else name in known
        if not ok:
            rule = "must be contained in the name of one of" if substring else "must be one of"
            raise ValueError(f"argument {option}: {rule} {what} ({', '.join(known)}); got {name!r}{hint}")


def _check_verify(args) -> None:
    if args.list:
        return
    if args.claim:
        from selfconsume.analysis import list_claims

        try:
            known = [c.id for c in list_claims(backend=args.backend)]
        except ImportError:  # --backend torch without torch: the command says how to install it
            return
        hint = " (torch.* claims need --backend torch)" if args.backend == "numpy" else ""
        _check_names("--claim", args.claim, known, f"the claims of --backend {args.backend}", hint=hint)
    _check_out("--out", args.out)


def _check_figures(args) -> None:
    if args.figure:
        from selfconsume.paper_figures import list_figures

        _check_names("--figure", args.figure, [f.slug for f in list_figures()], "the figures")
    _check_out("--out", args.out)
    if args.cache is not None:
        _check_out("--cache", args.cache)


def _check_selftest(args) -> None:
    if not args.list:
        _check_out("--out", args.out)


def _check_bench(args) -> None:
    if args.only:
        from selfconsume._parallel import resolve_workers
        from selfconsume.benchmarks._run import _entries

        names = [e[0] for e in _entries(not args.full, resolve_workers(args.workers))]
        _check_names("--only", args.only, names, "the benchmarks", substring=True)
    _check_out("--out", args.out)


def _check_sweep(args) -> None:
    from selfconsume.analysis._sweep import load_config, plan_sweep

    try:
        cfg = load_config(args.config)
        plan = plan_sweep(cfg["cell"], cfg["grid"], reps=cfg["reps"], rng=cfg["rng"], out=args.out)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"CONFIG {args.config}: {exc}") from None
    _check_out("--out", args.out)
    done = plan.finished()
    if done and not args.resume:
        raise ValueError(f"{plan.folder} already holds {len(done)} of the {len(plan.cells)} cells of this "
                         f"configuration: pass --resume to compute only the missing ones (or move the folder away)")
    args.sweep_config, args.sweep_plan = cfg, plan


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="selfconsume", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    v = sub.add_parser("verify", help="run the registered claims and write Markdown/JSON reports")
    v.add_argument("--claim", action="append", metavar="ID", help="run only this claim (repeatable)")
    v.add_argument("--budget", choices=("quick", "full"), default="quick",
                   help="quick (default, < 60 s on 2 cores) or full (more replicates)")
    v.add_argument("--seed", type=_nonnegative_int, default=0,
                   help="master seed, an integer >= 0 (each claim derives its own stream)")
    v.add_argument("--workers", type=_positive_int, default=None,
                   help="threads, an integer >= 1 (results do not depend on it)")
    v.add_argument("--jobs", type=_positive_int, default=None,
                   help="processes, one area of claims at a time each (default: 2 on 2+ cores for the whole "
                        "numpy run, else 1; results do not depend on it)")
    v.add_argument("--out", default="reports", help="report folder (default: reports/)")
    v.add_argument("--backend", choices=("numpy", "torch"), default="numpy",
                   help="numpy (default): the toolkit's simulators; torch: the torch adapter's claims (needs torch)")
    v.add_argument("--list", action="store_true", help="list the claims and exit")
    v.add_argument("--quiet", action="store_true", help="no progress bar")
    v.set_defaults(func=_cmd_verify, check=_check_verify, parser=v)

    f = sub.add_parser("figures", help="regenerate every registered figure (PNG and PDF)")
    f.add_argument("--figure", action="append", metavar="SLUG", help="only this figure (repeatable)")
    f.add_argument("--budget", choices=("quick", "full"), default="quick")
    f.add_argument("--out", default="figures", help="output folder (default: figures/)")
    f.add_argument("--cache", default=None, help="table cache folder (default: .cache/selfconsume)")
    f.add_argument("--refresh", action="store_true", help="recompute cached tables")
    f.add_argument("--quiet", action="store_true")
    f.set_defaults(func=_cmd_figures, check=_check_figures, parser=f)

    t = sub.add_parser("selftest", help="plant plausible mistakes one at a time; report which verify catches")
    t.add_argument("--mutant", action="append", metavar="NAME", help="only this mutant (repeatable)")
    t.add_argument("--list", action="store_true", help="list the mutants and exit")
    t.add_argument("--source", action="store_true",
                   help="also plant the mistakes inside the Numba kernels (each in a copy of the package, "
                        "compiled in a child process: about 10 s per mutant)")
    t.add_argument("--budget", choices=("quick", "full"), default="quick")
    t.add_argument("--seed", type=_nonnegative_int, default=0, help="master seed, an integer >= 0")
    t.add_argument("--out", default="reports", help="report folder (default: reports/)")
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(func=_cmd_selftest, check=_check_selftest, parser=t)

    b = sub.add_parser("bench", help="measure speed against the machine's limit and the NumPy baseline")
    b.add_argument("--full", action="store_true", help="the full workloads of shared/benchmarks.md")
    b.add_argument("--only", action="append", metavar="NAME", help="only benchmarks whose name contains NAME")
    b.add_argument("--workers", type=_positive_int, default=None, help="threads, an integer >= 1")
    b.add_argument("--out", default="reports", help="report folder (default: reports/)")
    b.add_argument("--quiet", action="store_true")
    b.set_defaults(func=_cmd_bench, check=_check_bench, parser=b)

    w = sub.add_parser("sweep", help="run a parameter grid as a tidy Parquet table (resumable; local or Dask)")
    w.add_argument("config", metavar="CONFIG",
                   help="a TOML file (cell, reps, seed, [grid], [fixed]) or a shipped example: "
                        "cot_gaussian, cot_fixation, curation_k_lambda")
    w.add_argument("--resume", action="store_true",
                   help="continue a sweep: read the finished cells, compute only the missing ones")
    w.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="'local' (a 2-worker Dask LocalCluster) or a Dask scheduler address such as "
                        "tcp://host:8786 (default: this process)")
    w.add_argument("--out", default="sweeps", help="sweep folder (default: sweeps/)")
    w.add_argument("--no-figures", action="store_true",
                   help="do not draw the figures into <out>/<config folder>/figures/ (the rate summary, "
                        "rates.csv and rates.md, is written either way)")
    w.add_argument("--quiet", action="store_true", help="no progress bar")
    w.set_defaults(func=_cmd_sweep, check=_check_sweep, parser=w)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        try:
            args.check(args)
        except ValueError as exc:
            args.parser.error(str(exc))  # a usage error: exit status 2, before any work
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

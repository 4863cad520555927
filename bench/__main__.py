"""``python -m bench``: run the pipeline against a mail simulator and the local RabbitMQ
and print one JSON object as the last line of stdout (progress goes to stderr).

Exit code 0 when the run completed with nothing lost and nothing duplicated, 1 otherwise,
2 when it could not run at all.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from bench.run import Options, run, say
from libs.common.redact import redact_url


def parse(argv: list[str] | None = None) -> Options:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--emails", type=int, default=5000, help="emails to seed (default 5000)")
    p.add_argument("--mailboxes", type=int, default=1, help="mailboxes (default 1)")
    p.add_argument("--ticketers", type=int, default=1, help="ticketer processes (default 1)")
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument(
        "--provider",
        choices=("microsoft", "google"),
        default="microsoft",
        help="the Graph simulator (default) or the Gmail simulator",
    )
    p.add_argument("--keep-logs", action="store_true", help="keep the work directory and logs")
    p.add_argument(
        "--poll-interval", type=float, default=5.0, help="fetcher poll interval, s (default 5)"
    )
    _scale_out_options(p)
    _push_options(p)
    a = p.parse_args(argv)
    _check(p, a)
    return Options(
        emails=a.emails,
        mailboxes=a.mailboxes,
        ticketers=a.ticketers,
        database=a.database,
        keep_logs=a.keep_logs,
        amqp_url=os.environ.get("MAILPIPE_AMQP_URL") or Options.amqp_url,
        poll_interval_s=a.poll_interval,
        fetchers=a.fetchers,
        senders=a.senders,
        jobs=a.jobs,
        steady_rate=a.steady,
        duration_s=a.duration,
        kill_fetcher_after_s=a.kill_fetcher_after,
        push=a.push,
        push_drop=a.push_drop,
        safety_interval_s=a.safety_interval,
        provider=a.provider,
    )


def _check(p: argparse.ArgumentParser, a: argparse.Namespace) -> None:
    """Refuse what cannot run (argparse's exit 2 with the usage)."""
    if min(a.emails, a.mailboxes, a.ticketers, a.fetchers, a.senders) < 1:
        p.error("--emails, --mailboxes, --ticketers, --fetchers and --senders must be at least 1")
    if a.jobs < 0 or (a.steady is not None and (a.steady <= 0 or a.duration <= 0)):
        p.error("--jobs must be at least 0, --steady and --duration above 0")
    if not 0.0 <= a.push_drop < 1.0 or a.safety_interval <= 0:
        p.error("--push-drop must be in [0, 1), --safety-interval above 0")
    if a.push_drop and not a.push:
        p.error("--push-drop needs --push")
    if a.push and a.provider == "google":
        p.error("--push is Microsoft's (Graph change notifications); Gmail mailboxes are polled")
    if a.kill_fetcher_after is not None and a.fetchers < 2:
        p.error("--kill-fetcher-after needs --fetchers 2 or more (someone must take over)")


def _push_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--push", action="store_true", help="Graph change notifications through mailpipe notify"
    )
    p.add_argument(
        "--push-drop",
        type=float,
        default=0.0,
        metavar="RATIO",
        help="with --push: the fraction of change notifications the simulator drops",
    )
    p.add_argument(
        "--safety-interval",
        type=float,
        default=300.0,
        metavar="S",
        help="with --push: a pushed mailbox's poll interval, s (default 300)",
    )


def _scale_out_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fetchers", type=int, default=1, help="fetcher processes (default 1)")
    p.add_argument("--senders", type=int, default=1, help="sender processes (default 1)")
    p.add_argument(
        "--jobs", type=int, default=0, help="outbound jobs through the senders (default 0)"
    )
    p.add_argument(
        "--steady",
        type=float,
        metavar="RATE",
        help="mail arrives at RATE per second while the services run, instead of a backlog",
    )
    p.add_argument(
        "--duration", type=float, default=60.0, help="seconds of --steady arrival (default 60)"
    )
    p.add_argument(
        "--kill-fetcher-after",
        type=float,
        metavar="S",
        help="SIGKILL the first fetcher S seconds after the fetchers started",
    )


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    try:
        report = run(opts)
    except Exception as exc:  # one line for the operator; the logs have the rest
        detail = redact_url(str(exc)) or "no detail"
        say(f"the benchmark could not run: {exc.__class__.__name__}: {detail}")
        return 2
    print(json.dumps(report), flush=True)
    ok = report["completed"] and report["lost"] == 0 and report["duplicates"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

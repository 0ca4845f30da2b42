"""The `sift` command line: a thin shell over the functions the HTTP API calls."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

import click

from api.settings import load_settings, open_backend

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"


def _settings(index_dir: str | None, **overrides):
    """The settings with what the command line gave (None: not given) on top."""
    given = {"index_dir": index_dir, **overrides}
    return load_settings({key: value for key, value in given.items() if value is not None})


def _echo_json(data) -> None:
    """Printed as the API sends it: a lone surrogate in stored text as U+FFFD, not a crash
    (api/output.py does this for HTTP; importing Flask here would slow every command)."""
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    click.echo(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Sift: full-text search for news archives."""
    from index.extract.sources import use_sources_file

    try:
        use_sources_file(load_settings().sources_file)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--index-dir", help="Index folder (default: $SIFT_INDEX_DIR or ./var/index).")
@click.option("--incremental", is_flag=True, help="Re-read only added, changed and removed files.")
@click.option("--cluster", help="A cluster.toml to search instead (default $SIFT_CLUSTER).")
def reindex(
    paths: tuple[str, ...], index_dir: str | None, incremental: bool, cluster: str | None
) -> None:
    """Build the index from PATHS (files or folders; default: the bundled seeds/).

    The new index replaces the served one only once it is complete; on any error the
    previous index keeps serving and the command exits non-zero.
    """
    from index.generations import IndexBusy
    from index.reindex import ReindexFailed

    settings = _settings(index_dir, cluster=cluster)
    store = open_backend(settings).store
    targets = list(paths) or [str(SEEDS_DIR)]
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit=" docs", desc="indexing", file=sys.stderr)
    try:
        report = store.reindex(
            targets,
            incremental=incremental,
            progress=bar.update if bar else None,
            limits=settings.input_limits,
        )
    except IndexBusy:
        raise click.ClickException(
            "another reindex is running on this index; try again later"
        ) from None
    except ReindexFailed as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        if bar:
            bar.close()
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    for error in report.errors:
        click.echo(f"skipped {error.where}: {error.reason}", err=True)
    if not report.switched:
        raise click.ClickException(
            f"{len(report.errors)} input problem(s); the previous index is still serving"
        )
    click.echo(
        f"indexed {report.documents} documents into {report.generation} "
        f"({report.files_read} files read, {report.files_unchanged} unchanged, "
        f"{report.files_removed} removed, {report.api_writes_replayed} API writes "
        f"replayed) in {report.seconds:.1f}s"
    )
    click.echo("phases: " + ", ".join(f"{k} {v:.1f}s" for k, v in report.phases.items()))


@main.command()
@click.argument("query", default="")
@click.option("--source", "sources", multiple=True, help="Only this source (repeatable).")
@click.option("--actor", "actors", multiple=True, help="Only documents naming this actor.")
@click.option("--language", "languages", multiple=True, help="Only this language.")
@click.option("--date-from", help="Inclusive, YYYY-MM-DD.")
@click.option("--date-to", help="Inclusive, YYYY-MM-DD.")
@click.option("--op", default="and", help="and | or, for plain words.")
@click.option("--sort", default="relevance", help="relevance | newest | oldest.")
@click.option("--page", default="1")
@click.option("--per-page", default="10")
@click.option("--expand", is_flag=True, help="Reorder by the best hits' words (feedback).")
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON as the HTTP API.")
@click.option("--index-dir")
@click.option("--cluster", help="A cluster.toml to search instead (default $SIFT_CLUSTER).")
def search(
    query: str,
    sources,
    actors,
    languages,
    date_from,
    date_to,
    op,
    sort,
    page,
    per_page,
    expand: bool,
    as_json: bool,
    index_dir: str | None,
    cluster: str | None,
) -> None:
    """Search from the shell."""
    from marshmallow import ValidationError
    from werkzeug.datastructures import MultiDict

    from api import schemas
    from api.routes.search import search_request
    from search.errors import SearchError

    args = MultiDict(
        [("q", query), ("op", op), ("sort", sort), ("page", page), ("per_page", per_page)]
    )
    if expand:
        args.add("expand", "true")
    for name, values in (("source", sources), ("actor", actors), ("language", languages)):
        for value in values:
            args.add(name, value)
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        if value:
            args.add(name, value)
    try:
        loaded = schemas.load_args(schemas.SearchArgs(), args)
        results = open_backend(_settings(index_dir, cluster=cluster)).search(search_request(loaded))
    except ValidationError as exc:
        raise click.ClickException(f"invalid arguments: {exc.messages}") from None
    except SearchError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        _echo_json(schemas.SearchOut().dump(results))
        return
    click.echo(f"{results.total} results ({results.took_ms} ms)")
    if results.suggestion:
        click.echo(f"did you mean: {results.suggestion}")
    for hit in results.hits:
        click.echo(f"\n{hit.score:8.3f}  {hit.id}  {hit.date or '—'}  {hit.source or '—'}")
        click.echo(f"          {hit.title}")
        click.echo("          " + _plain(hit.snippet))


def _plain(snippet: str) -> str:
    import html

    return html.unescape(snippet.replace("<mark>", "[").replace("</mark>", "]"))


@main.command()
@click.option("--host", help="Bind address (default $SIFT_HOST or 127.0.0.1).")
@click.option("--port", help="Port (default $SIFT_PORT or 8000).")
@click.option("--workers", help="gunicorn workers (default $SIFT_WORKERS or 2).")
@click.option("--index-dir")
@click.option("--cluster", help="A cluster.toml to search instead (default $SIFT_CLUSTER).")
def serve(host, port, workers, index_dir, cluster) -> None:
    """Serve the HTTP API with gunicorn; builds the index from seeds/ first if none exists."""
    import logging.config

    from api.logs import logging_config

    settings = _settings(index_dir, host=host, port=port, workers=workers, cluster=cluster)
    store = open_backend(settings).store
    try:
        built = store.built()
    except ConnectionError as exc:
        raise click.ClickException(f"the index cannot be reached: {exc}") from None
    if not built:
        # Logged like the server's own lines (one JSON object each), which follow it.
        logging.config.dictConfig(logging_config())
        logging.getLogger("sift.serve").warning(
            "no index in %s: indexing the bundled seeds first", settings.index_dir
        )
        store.reindex([str(SEEDS_DIR)], limits=settings.input_limits)
    env = gunicorn_env(
        settings.index_dir, host=settings.host, port=settings.port, workers=settings.workers
    )
    if settings.cluster is not None:
        env["SIFT_CLUSTER"] = str(settings.cluster)
    command = gunicorn_command()
    os.execvpe(command[0], command, env)


def gunicorn_command(*options: str) -> list[str]:
    """Real gunicorn with Sift's configuration (api/gunicorn_conf.py), as `sift serve`
    starts it; `options` (e.g. a worker class) go before the app. Tests and benchmarks
    start the same command."""
    config = ["--config", "python:api.gunicorn_conf"]
    return [sys.executable, "-m", "gunicorn", *config, *options, "api.wsgi:app"]


def gunicorn_env(index_dir, *, host: str, port: int, workers: int) -> dict[str, str]:
    """This environment with the settings gunicorn_conf reads (SIFT_*) for one server.

    glibc gives each thread that allocates its own malloc arena (up to 8 a core), and keeps
    what each has freed: a worker's 8 threads held some 50 MB more at 216,000 articles,
    numpy's temporaries spread over them. One arena, unless the operator says otherwise:
    at 1,080,000 articles a second arena still kept 40 to 90 MB a worker (a third worker
    cost 344 and 405 MB of PSS with two, 268 and 313 MB with one), and the threads take
    the GIL to allocate anyway, so the lock they share costs no measurable latency.
    """
    return {
        "MALLOC_ARENA_MAX": "1",
        **os.environ,
        "SIFT_HOST": host,
        "SIFT_PORT": str(port),
        "SIFT_WORKERS": str(workers),
        "SIFT_INDEX_DIR": str(index_dir),
    }


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--index-dir")
@click.option("--cluster", help="A cluster.toml to search instead (default $SIFT_CLUSTER).")
def stats(as_json: bool, index_dir: str | None, cluster: str | None) -> None:
    """Documents, index size, last reindex, counts per source and language."""
    from api import schemas
    from search.errors import IndexUnavailable

    try:
        result = open_backend(_settings(index_dir, cluster=cluster)).stats()
    except IndexUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    data = schemas.StatsOut().dump(result)
    if as_json:
        _echo_json(data)
        return
    click.echo(f"documents:    {data['documents']}")
    click.echo(f"index size:   {data['index_bytes'] / 1e6:.1f} MB")
    click.echo(f"generation:   {data['generation']}")
    click.echo(f"last reindex: {data['last_reindex']}")
    click.echo(f"undated:      {data['undated']}")
    for title, key in (("sources", "sources"), ("languages", "languages")):
        click.echo(f"{title}:")
        for item in data[key]:
            click.echo(f"  {item['count']:8d}  {item['value']}")


@main.command()
@click.option("--index-dir")
@click.option("--repair", is_flag=True, help="Also remove leftovers of interrupted writes.")
@click.option("--json", "as_json", is_flag=True)
def verify(index_dir: str | None, repair: bool, as_json: bool) -> None:
    """Check the live index: committed checksums, every stored document, the journal.

    Exits non-zero if anything is damaged. Leftovers of killed writers and builds are
    listed, and removed with --repair (waiting for a running reindex or write).
    """
    from index.generations import IndexBusy
    from index.verify import verify as run_verify

    try:
        report = run_verify(_settings(index_dir).index_dir, repair=repair)
    except IndexBusy:
        raise click.ClickException("the index stayed busy; try --repair again later") from None
    if as_json:
        _echo_json({**report.__dict__, "ok": report.ok})
    else:
        click.echo(f"generation:     {report.generation}")
        click.echo(f"documents:      {report.documents}")
        click.echo(f"files checked:  {report.files_checked}")
        click.echo(f"pending writes: {report.pending_writes}")
        for entry in report.set_aside:
            click.echo(f"set aside:      {entry}")
        for rel in report.removed:
            click.echo(f"removed:        {rel}")
        for rel in report.leftovers:
            click.echo(f"leftover:       {rel}")
        for problem in report.problems:
            click.echo(f"PROBLEM:        {problem}", err=True)
    if not report.ok:
        raise SystemExit(1)


@main.command()
@click.argument("feeds_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--once", is_flag=True, help="Poll every feed once, then exit.")
@click.option(
    "--interval",
    type=click.FloatRange(min=1),
    default=900,
    show_default=True,
    help="Seconds between two rounds.",
)
@click.option(
    "--delay",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Seconds between two requests to one host (a robots.txt Crawl-delay can raise it).",
)
@click.option("--index-dir", help="Index folder (default: $SIFT_INDEX_DIR or ./var/index).")
def follow(feeds_file: str, once: bool, interval: float, delay: float, index_dir: str | None):
    """Poll the feed URLs in FEEDS_FILE (one a line), add each new item's page.

    Pages are added through the same durable journal as API writes: a crash loses and
    duplicates nothing, and the next run resumes. Dead feeds and pages are reported on
    stderr; the others go on.
    """
    import time

    from index.fetch import PoliteFetcher
    from index.follow import STATE_DIR, Follower, lock, read_feed_list
    from index.generations import IndexBusy

    try:
        feeds = read_feed_list(Path(feeds_file))
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(str(exc)) from None
    settings = _settings(index_dir)
    store = open_backend(settings).store
    if settings.cluster is None:
        state_dir = settings.index_dir / STATE_DIR
    else:
        folder = settings.cluster if settings.cluster.is_dir() else settings.cluster.parent
        state_dir = folder / STATE_DIR
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(lock(state_dir))
        except IndexBusy:
            raise click.ClickException("another `sift follow` is running on this index") from None
        try:
            follower = Follower(
                store,
                state_dir,
                PoliteFetcher(delay_s=delay),
                lambda line: click.echo(line, err=True),
            )
        except (ValueError, OSError) as exc:  # a damaged or unreadable state file
            raise click.ClickException(
                f"cannot read the follow state in {state_dir}: {exc}"
            ) from None
        while True:
            try:
                result = follower.run_round(feeds)
            except OSError as exc:  # the journal or the index cannot be written (disk full)
                raise click.ClickException(f"cannot write to the index: {exc}") from None
            click.echo(
                f"{result.feeds} feeds polled ({result.not_modified} not modified), "
                f"{result.added} new articles added, {len(result.problems)} problems"
            )
            if once:
                return
            time.sleep(interval)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
def extract(file: str, as_json: bool) -> None:
    """Show the metadata ingest would extract from FILE (one document per record)."""
    from index.extract import extract as run_extract
    from index.readers import InputError, read_file

    try:
        limits = load_settings().input_limits
        docs = [run_extract(raw) for raw in read_file(Path(file), limits=limits)]
    except InputError as exc:
        raise click.ClickException(f"{exc.where}: {exc.reason}") from None
    out = []
    for doc in docs:
        data = {**doc.__dict__, "actors": [{"name": a.name, "type": a.type} for a in doc.actors]}
        data["date"] = doc.date.isoformat() if doc.date else None
        data.pop("text")
        out.append(data)
    if as_json:
        _echo_json(out[0] if len(out) == 1 else out)
        return
    for data in out:
        for key in ("id", "title", "language", "date", "source", "site", "url"):
            click.echo(
                f"{key + ':':10} {data[key]}  ({data['provenance'].get(key, '')})".rstrip(" ()")
            )
        click.echo(
            f"{'actors:':10} " + "; ".join(f"{a['name']} ({a['type']})" for a in data["actors"])
        )
        click.echo(f"{'places:':10} " + "; ".join(data["places"]))
        click.echo()


@main.group()
def cluster() -> None:
    """A local SphinxQL cluster: searchd daemons on loopback ports (needs Sphinx's searchd)."""


@cluster.command("init")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--shards", type=click.IntRange(1, 64), required=True)
@click.option("--replicas", type=click.IntRange(1, 8), required=True)
@click.option("--base-port", type=click.IntRange(1024, 65000), help="First of consecutive ports.")
def cluster_init(folder: str, shards: int, replicas: int, base_port: int | None) -> None:
    """Write searchd configurations and FOLDER/cluster.toml (ports free now, or from P)."""
    from index.cluster.layout import init_cluster

    try:
        path = init_cluster(Path(folder), shards, replicas, base_port)
    except (FileExistsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {path}; start it with: sift cluster start {folder}")


@cluster.command("start")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
def cluster_start(folder: str) -> None:
    """Start every daemon of FOLDER's cluster not running yet (pids in each searchd.pid)."""
    from index.cluster import daemons

    try:
        started = daemons.start(Path(folder))
    except daemons.ClusterError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{len(started)} daemons up; use it with --cluster {Path(folder) / 'cluster.toml'}")


@cluster.command("stop")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
def cluster_stop(folder: str) -> None:
    """Stop every daemon of FOLDER's cluster (searchd --stopwait)."""
    from index.cluster import daemons

    try:
        daemons.stop(Path(folder))
    except daemons.ClusterError as exc:
        raise click.ClickException(str(exc)) from None


@cluster.command("status")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True)
def cluster_status(folder: str, as_json: bool) -> None:
    """Every daemon: role, shard, address, pid, up."""
    from index.cluster import daemons

    try:
        found = daemons.status(Path(folder))
    except daemons.ClusterError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"daemons": found}))
        return
    for d in found:
        shard = "-" if d["shard"] is None else d["shard"]
        state = "up" if d["up"] else "DOWN"
        click.echo(f"{d['role']:8} shard {shard:>2}  {d['address']:21} pid {d['pid']}  {state}")
    if not all(d["up"] for d in found):
        raise SystemExit(1)

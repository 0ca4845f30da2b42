"""The `sift` command line: a thin shell over the functions the HTTP API calls."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from api.settings import load_settings

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"


def _index_dir(given: str | None) -> Path:
    return Path(given) if given else load_settings().index_dir


def _echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Sift: full-text search for news archives."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--index-dir", help="Index folder (default: $SIFT_INDEX_DIR or ./var/index).")
@click.option("--incremental", is_flag=True, help="Re-read only added, changed and removed files.")
def reindex(paths: tuple[str, ...], index_dir: str | None, incremental: bool) -> None:
    """Build the index from PATHS (files or folders; default: the bundled seeds/).

    The new index replaces the served one only once it is complete; on any error the
    previous index keeps serving and the command exits non-zero.
    """
    from index.generations import IndexBusy
    from index.reindex import ReindexFailed
    from index.reindex import reindex as run_reindex

    root = _index_dir(index_dir)
    targets = list(paths) or [str(SEEDS_DIR)]
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit=" docs", desc="indexing", file=sys.stderr)
    try:
        report = run_reindex(
            root, targets, incremental=incremental, progress=bar.update if bar else None
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
) -> None:
    """Search from the shell."""
    from marshmallow import ValidationError
    from werkzeug.datastructures import MultiDict

    from api import schemas
    from api.routes.search import search_request
    from search.engine import Engine
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
        results = Engine(_index_dir(index_dir)).search(search_request(loaded))
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
def serve(host, port, workers, index_dir) -> None:
    """Serve the HTTP API with gunicorn; builds the index from seeds/ first if none exists."""
    import logging.config

    from api.logs import logging_config
    from index.generations import current_generation
    from index.reindex import reindex as run_reindex

    overrides = {
        key: value
        for key, value in {
            "host": host,
            "port": port,
            "workers": workers,
            "index_dir": index_dir,
        }.items()
        if value is not None
    }
    settings = load_settings(overrides)
    if current_generation(settings.index_dir) is None:
        # Logged like the server's own lines (one JSON object each), which follow it.
        logging.config.dictConfig(logging_config())
        logging.getLogger("sift.serve").warning(
            "no index in %s: indexing the bundled seeds first", settings.index_dir
        )
        run_reindex(settings.index_dir, [str(SEEDS_DIR)])
    env = gunicorn_env(
        settings.index_dir, host=settings.host, port=settings.port, workers=settings.workers
    )
    command = gunicorn_command()
    os.execvpe(command[0], command, env)


def gunicorn_command(*options: str) -> list[str]:
    """Real gunicorn with Sift's configuration (api/gunicorn_conf.py), as `sift serve`
    starts it; `options` (e.g. a worker class) go before the app. Tests and benchmarks
    start the same command."""
    config = ["--config", "python:api.gunicorn_conf"]
    return [sys.executable, "-m", "gunicorn", *config, *options, "api.wsgi:app"]


def gunicorn_env(index_dir, *, host: str, port: int, workers: int) -> dict[str, str]:
    """This environment with the settings gunicorn_conf reads (SIFT_*) for one server."""
    return dict(
        os.environ,
        SIFT_HOST=host,
        SIFT_PORT=str(port),
        SIFT_WORKERS=str(workers),
        SIFT_INDEX_DIR=str(index_dir),
    )


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--index-dir")
def stats(as_json: bool, index_dir: str | None) -> None:
    """Documents, index size, last reindex, counts per source and language."""
    from api import schemas
    from search.engine import Engine
    from search.errors import IndexUnavailable

    try:
        result = Engine(_index_dir(index_dir)).stats()
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
        report = run_verify(_index_dir(index_dir), repair=repair)
    except IndexBusy:
        raise click.ClickException("the index stayed busy; try --repair again later") from None
    if as_json:
        _echo_json({**report.__dict__, "ok": report.ok})
    else:
        click.echo(f"generation:     {report.generation}")
        click.echo(f"documents:      {report.documents}")
        click.echo(f"files checked:  {report.files_checked}")
        click.echo(f"pending writes: {report.pending_writes}")
        for rel in report.removed:
            click.echo(f"removed:        {rel}")
        for rel in report.leftovers:
            click.echo(f"leftover:       {rel}")
        for problem in report.problems:
            click.echo(f"PROBLEM:        {problem}", err=True)
    if not report.ok:
        raise SystemExit(1)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
def extract(file: str, as_json: bool) -> None:
    """Show the metadata ingest would extract from FILE (one document per record)."""
    from index.extract import extract as run_extract
    from index.readers import InputError, read_file

    try:
        docs = [run_extract(raw) for raw in read_file(Path(file))]
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

"""Polite HTTP for `sift follow`: what a well-behaved crawler owes the sites it reads.

A user agent that names Sift; robots.txt read once per site and honoured (urllib's
robotparser; its Crawl-delay too); a pause between two requests to one host; timeouts
(per read, and for a whole body); a size cap on every body; retries with exponential
backoff (and Retry-After) for what may pass (timeouts, refused connections, 429, 5xx),
none for what will not (404, 403, too large). Conditional GET is the caller's: it passes
If-None-Match / If-Modified-Since and gets a 304 back as a response. Proxies from the
environment are not used.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from index.html import MAX_PAGE_BYTES

USER_AGENT = "Sift/0.1 (news archive search; feed follower)"
ROBOTS_AGENT = "Sift"  # the name robots.txt rules address
DELAY_S = 1.0  # between two requests to one host
MAX_CRAWL_DELAY_S = 60.0  # a robots.txt Crawl-delay above this is read as this
TIMEOUT_S = 20.0  # connecting, and each read
TOTAL_TIMEOUT_S = 120.0  # a whole body, however slowly it trickles in
_CHUNK = 1 << 16
ATTEMPTS = 3  # tries of a request that failed in a way that may pass
BACKOFF_S = 1.0  # the first pause before a retry; doubled each time
MAX_RETRY_AFTER_S = 60.0
# How long a site's robots.txt is trusted before it is read again; when it could not be
# read (no page of the site is fetched meanwhile), how long until the next try.
ROBOTS_TTL_S = 24 * 3600.0
ROBOTS_RETRY_S = 600.0


class FetchError(Exception):
    """A URL that could not be fetched: which, why, and whether trying later may help."""

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        permanent: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.permanent = permanent
        self.status = status  # the HTTP status, when the server answered
        self.retry_after = retry_after  # seconds the server asked us to wait


@dataclass
class Response:
    url: str  # after redirects
    status: int  # 200, or 304 for a conditional GET that found nothing new
    headers: Mapping[str, str]
    body: bytes


class _NoRetry(Exception):
    def __init__(self, error: FetchError):
        self.error = error


class PoliteFetcher:
    def __init__(
        self,
        *,
        delay_s: float = DELAY_S,
        timeout_s: float = TIMEOUT_S,
        max_bytes: int = MAX_PAGE_BYTES,
        attempts: int = ATTEMPTS,
        backoff_s: float = BACKOFF_S,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.delay_s = delay_s
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.sleep = sleep
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._last: dict[str, float] = {}  # host -> when its last request ended
        # site -> (until when it holds, its rules or why they could not be read)
        self._robots: dict[str, tuple[float, RobotFileParser | FetchError]] = {}
        self._host_delay: dict[str, float] = {}  # host -> its robots.txt Crawl-delay

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Response:
        """GET `url` if robots.txt allows it; FetchError if it cannot be had."""
        self._check_robots(url)
        return self._get(url, headers or {})

    def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(url, "not an http(s) URL", permanent=True)
        site = f"{parts.scheme}://{parts.netloc}"
        if site not in self._robots or self._robots[site][0] < time.monotonic():
            robots = self._read_robots(site)
            ttl = ROBOTS_RETRY_S if isinstance(robots, FetchError) else ROBOTS_TTL_S
            self._robots[site] = (time.monotonic() + ttl, robots)
        robots = self._robots[site][1]
        if isinstance(robots, FetchError):
            raise FetchError(url, f"not fetched: {robots.reason}", permanent=False)
        if not robots.can_fetch(ROBOTS_AGENT, url):
            raise FetchError(url, "not fetched: robots.txt disallows it", permanent=True)

    def _read_robots(self, site: str) -> RobotFileParser | FetchError:
        """The site's rules (RFC 9309: none found = all allowed; unreachable = none allowed)."""
        robots = RobotFileParser(f"{site}/robots.txt")
        try:
            response = self._get(f"{site}/robots.txt", {})
        except FetchError as exc:
            if exc.status is None or not 400 <= exc.status < 500:
                return FetchError(
                    exc.url, f"robots.txt unreachable ({exc.reason})", permanent=False
                )
            # Undocumented but stable attributes: what RobotFileParser.read() sets itself.
            robots.disallow_all = exc.status in (401, 403)  # type: ignore[attr-defined]
            robots.allow_all = not robots.disallow_all  # type: ignore[attr-defined]
            return robots
        robots.parse(response.body.decode("utf-8", "replace").splitlines())
        delay = robots.crawl_delay(ROBOTS_AGENT)
        if delay:
            host = urlsplit(site).netloc
            self._host_delay[host] = min(float(delay), MAX_CRAWL_DELAY_S)
        return robots

    def _get(self, url: str, headers: Mapping[str, str]) -> Response:
        pause = self.backoff_s
        for attempt in range(1, self.attempts + 1):
            try:
                return self._once(url, headers)
            except _NoRetry as stop:
                raise stop.error from None
            except FetchError as exc:
                if attempt == self.attempts:
                    raise
                wait = pause
                if exc.retry_after is not None:
                    wait = max(wait, min(exc.retry_after, MAX_RETRY_AFTER_S))
                self.sleep(wait)
                pause *= 2
        raise AssertionError("unreachable")

    def _once(self, url: str, headers: Mapping[str, str]) -> Response:
        host = urlsplit(url).netloc
        delay = max(self.delay_s, self._host_delay.get(host, 0.0))
        wait = self._last.get(host, -delay) + delay - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers})
        try:
            with self._opener.open(request, timeout=self.timeout_s) as answer:
                length = answer.headers.get("Content-Length")
                if length and length.isdigit() and int(length) > self.max_bytes:
                    raise _NoRetry(self._too_large(url))
                body = self._read_body(url, answer)
                return Response(answer.geturl(), answer.status, dict(answer.headers), body)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 304:
                return Response(url, 304, dict(exc.headers or {}), b"")
            if exc.code != 429 and exc.code < 500:
                raise _NoRetry(
                    FetchError(url, f"HTTP {exc.code}", permanent=True, status=exc.code)
                ) from None
            retry_after = _seconds(exc.headers.get("Retry-After") if exc.headers else None)
            raise FetchError(
                url, f"HTTP {exc.code}", permanent=False, status=exc.code, retry_after=retry_after
            ) from None
        except ValueError as exc:  # a URL urllib cannot use
            raise _NoRetry(FetchError(url, f"bad URL: {exc}", permanent=True)) from None
        except (http.client.HTTPException, OSError) as exc:  # URLError, timeouts, resets
            reason = getattr(exc, "reason", None) or exc
            raise FetchError(url, f"{type(exc).__name__}: {reason}", permanent=False) from None
        finally:
            self._last[host] = time.monotonic()

    def _read_body(self, url: str, answer) -> bytes:
        """The body, read in chunks: refused past max_bytes, given up after TOTAL_TIMEOUT_S."""
        deadline = time.monotonic() + TOTAL_TIMEOUT_S
        chunks: list[bytes] = []
        size = 0
        while chunk := answer.read(_CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                raise _NoRetry(self._too_large(url))
            if time.monotonic() > deadline:
                raise FetchError(
                    url, f"body not read within {TOTAL_TIMEOUT_S:.0f} s", permanent=False
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, url: str) -> FetchError:
        return FetchError(url, f"larger than {self.max_bytes:,} bytes; not read", permanent=True)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None

"""Term lookups in a segment's terms table with two small reads and no generator chain.

A search looks each of its words up in every field it may be in and in every segment:
at a million articles (36 segments, a dozen fields) a word not seen before is some 430
lookups. Whoosh's `OrderedHashReader` finds a key through half a dozen Python calls, a
generator and a 4 KB block read for the slot and another for the key (index/pread.py),
about 14 microseconds a lookup; a word's first search spent a third of its time there.
`TermsTable` probes the same hash table with exact reads of the slot (12 bytes) and of
the entry (lengths, key and a term info's usual size at once), and remembers the last
few thousand keys' hashes (every segment hashes a word's key the same way): about 4
microseconds (8 with a search's calls around it), the same answers
(tests/index/test_terms.py compares every term)."""

from __future__ import annotations

import functools
import struct

from whoosh.codec import whoosh3
from whoosh.filedb import filetables
from whoosh.reading import TermNotFound
from whoosh.system import _INT_SIZE, pack_ushort

from index.codec.compound import PreadBufferFile
from index.codec.postings import term_start

# A hash table slot: the key's hash and where its entry starts (0: an empty slot).
_SLOT = struct.Struct("!Iq")
# An entry's head: the key's and the value's lengths (then the key, then the value).
_LENGTHS = struct.Struct("!ii")
# Bytes of value read with an entry's head and key: a term info that points into the
# postings file is 40 bytes (W3TermInfo); inlined postings are longer, and read again.
VALUE_BYTES = 48


@functools.lru_cache(maxsize=8192)
def _hashed(hashfn, key: bytes) -> int:
    """md5 of a key, remembered: the same word's key is hashed again in every segment."""
    return hashfn(key)


class TermsTable(filetables.OrderedHashReader):
    """Whoosh's ordered hash table (the terms table) with a faster key lookup.

    Keys in a terms table are unique (one entry per field and term), so a lookup stops at
    the first entry with the key, where Whoosh's reader goes on probing for more."""

    def __init__(self, dbfile, length: int):
        """Whoosh's HashReader constructor, with the directory of the 256 hash tables read
        at once: Whoosh reads it twelve bytes a call, some 9,000 calls for every searcher
        a thread opens at a million articles (36 segments), most of opening one. (Terms
        tables start their file and are opened with its length: W3TermsReader.)"""
        self.dbfile = dbfile
        self.is_closed = False
        dbfile.seek(0)
        filemagic = dbfile.read(4)
        if filemagic != b"HSH3":
            raise filetables.FileFormatError(f"Unknown file header {filemagic!r}")
        self.hashtype = dbfile.read_byte()
        self.hashfn = filetables._hash_functions[self.hashtype]
        dbfile.read_int()  # two ints kept for future use
        dbfile.read_int()
        self.startofdata = dbfile.tell()
        extras_end = length - _INT_SIZE
        extras_at = extras_end - dbfile.get_int(extras_end)
        dbfile.seek(extras_at)
        self._read_extras()
        size = filetables._directory_size
        directory = dbfile.get(extras_at - size, size)
        self.tables = list(filetables._dir_entry.iter_unpack(directory))
        self.endofdata = self.tables[0][0]

    def _entry(self, key: bytes, extra: int) -> tuple[int, int, bytes] | None:
        """(where the key's value starts, its length, the bytes read from there: up to
        `extra` of the value), or None when the table does not hold `key`."""
        if not isinstance(key, bytes):
            raise TypeError(f"Key {key!r} should be bytes")
        keyhash = _hashed(self.hashfn, key)
        tablestart, slots = self.tables[keyhash & 255]
        if not slots:
            return None
        read = _reader(self.dbfile)
        keylen = len(key)
        head = _LENGTHS.size + keylen
        slotpos = tablestart + ((keyhash >> 8) % slots) * _SLOT.size
        tableend = tablestart + slots * _SLOT.size
        for _ in range(slots):
            slothash, itempos = _SLOT.unpack(read(slotpos, _SLOT.size))
            if not itempos:
                return None
            if slothash == keyhash:
                entry = read(itempos, head + extra)
                found_keylen, datalen = _LENGTHS.unpack_from(entry)
                if found_keylen == keylen and entry[_LENGTHS.size : head] == key:
                    return itempos + head, datalen, entry[head : head + datalen]
            slotpos += _SLOT.size
            if slotpos == tableend:
                slotpos = tablestart
        return None

    def ranges_for_key(self, key):
        found = self._entry(key, 0)
        return () if found is None else ((found[0], found[1]),)

    def value(self, key: bytes) -> bytes | None:
        """The key's value, None when the table does not hold it."""
        found = self._entry(key, VALUE_BYTES)
        if found is None:
            return None
        datapos, datalen, value = found
        if len(value) < datalen:
            value = self.dbfile.get(datapos, datalen)
        return value

    def __getitem__(self, key):
        value = self.value(key)
        if value is None:
            raise KeyError(key)
        return value


def _reader(dbfile):
    """`read(position, length)` of a table's file: exact reads of a compound sub-file
    (no 4 KB block for a 12-byte slot), else the file's own `get`."""
    if isinstance(dbfile, PreadBufferFile):
        return dbfile._buf.exact
    return dbfile.get


# W3TermInfo's fixed part (flags, weight, document frequency, ...), then for postings
# kept in the postings file (flags 0) where they start (a long) and their length.
_TERMINFO = whoosh3.W3TermInfo._struct
_START = struct.Struct("!q")


def term_location(reader, field: str, btext: bytes) -> tuple[int, int | None]:
    """(document frequency, where its postings start in the postings file: None when
    inlined) of a term in one segment reader; (0, None) when the segment does not hold
    it. What `reader.term_info` gives, without a TermInfo object on the way."""
    return term_locations([reader], field, btext)[0]


def term_locations(readers, field: str, btext: bytes) -> list[tuple[int, int | None]]:
    """`term_location` in each of `readers` (a word in every segment of an index), the
    key built once for all the segments that number the field alike."""
    found: list[tuple[int, int | None]] = []
    keys: dict[int, bytes] = {}  # field number in a segment -> the term's key there
    for reader in readers:
        terms = getattr(reader, "_terms", None)
        if not isinstance(terms, TermsReader):
            try:
                info = reader.term_info(field, btext)
            except TermNotFound:
                found.append((0, None))
            else:
                found.append((info.doc_frequency(), term_start(info)))
            continue
        try:
            reader._test_field(field)  # ReaderClosed, or a field the schema does not index
        except TermNotFound:
            found.append((0, None))
            continue
        number = terms._fieldmap.get(field)
        if number is None:
            found.append((0, None))
            continue
        key = keys.get(number)
        if key is None:
            key = keys[number] = pack_ushort(number) + btext
        value = terms._tindex.value(key)
        if value is None:
            found.append((0, None))
            continue
        flags, _, frequency, *_ = _TERMINFO.unpack_from(value)
        found.append((frequency, None if flags else _START.unpack_from(value, _TERMINFO.size)[0]))
    return found


class TermsReader(whoosh3.W3TermsReader):
    """W3TermsReader over a TermsTable (its constructor, with the table's class swapped)."""

    def __init__(self, codec, dbfile, length, postfile):
        self._codec = codec
        self._dbfile = dbfile
        self._tindex = TermsTable(dbfile, length)
        self._fieldmap = self._tindex.extras["fieldmap"]
        self._postfile = postfile
        self._fieldunmap = [None] * len(self._fieldmap)
        for fieldname, num in self._fieldmap.items():
            self._fieldunmap[num] = fieldname


# Segments open their terms table through this name (W3Codec.terms_reader); every
# segment of every index Sift opens looks terms up this way.
whoosh3.W3TermsReader = TermsReader

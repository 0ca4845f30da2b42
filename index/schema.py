"""The Whoosh schema: one place that names every field and says what it is for.

Headlines and bodies are indexed in one field per stemming language (`title_de`,
`text_de`, ...), holding only documents of that language, stemmed by its stemmer; `title`
and `text` hold the documents of other languages ("und" included), folded but not
stemmed. A query word is looked up in each language's field with that language's stem,
so a French stem can never match an English word that happens to look like it, and each
language gets its own term statistics. `words` holds all text unstemmed, for
did-you-mean and completions. Facet fields (`source`,
`actor`, `language`, `date`) hold exact values, never analysed, so counts show the names
users typed and filters match them exactly; `source_text` and `actor_text` make
`source:` and `actor:` queries forgiving about case, accents and partial names.
"""

from whoosh import fields, formats

from index.analysis import STEMMED_LANGUAGES, FoldingAnalyzer

ID = "id"
TITLE = "title"
TEXT = "text"
WORDS = "words"
SOURCE = "source"
SOURCE_TEXT = "source_text"
ACTOR = "actor"
ACTOR_TEXT = "actor_text"
LANGUAGE = "language"
DATE = "date"  # "YYYY-MM-DD"
PLACE = "place"
# Everything shown but not searched (url, site, actor types, provenance, extra): one JSON
# string, decoded only for the hits on the page.
META = "meta"

# Fields a user may name in a query (`title:nato`), mapped to the fields searched.
QUERY_FIELDS = {
    "title": (TITLE,),
    "text": (TEXT,),
    "source": (SOURCE_TEXT,),
    "actor": (ACTOR_TEXT,),
    "language": (LANGUAGE,),
}


def field_for(base: str, lang: str | None) -> str:
    """The field holding `base` (TITLE or TEXT) terms of a document in language `lang`."""
    return f"{base}_{lang}" if lang in STEMMED_LANGUAGES else base


def build_schema() -> fields.Schema:
    """The schema of every index generation."""
    folding = FoldingAnalyzer()
    per_language = {}
    for lang in sorted(STEMMED_LANGUAGES):
        per_language[field_for(TITLE, lang)] = fields.TEXT(analyzer=folding, phrase=True)
        per_language[field_for(TEXT, lang)] = fields.TEXT(analyzer=folding, phrase=True)
    return fields.Schema(
        **per_language,
        **{
            ID: fields.ID(stored=True, unique=True),
            TITLE: fields.TEXT(analyzer=folding, stored=True, phrase=True),
            TEXT: fields.TEXT(analyzer=folding, stored=True, phrase=True),
            # Only this field's vocabulary and document frequencies are read (did-you-mean,
            # completions, prefix and fuzzy expansion), never its postings: it records
            # which documents hold a word, not how often, and no field lengths (it was a
            # third of the ingest's posting work as a scored TEXT field).
            WORDS: fields.FieldType(formats.Existence(), folding, scorable=False),
            SOURCE: fields.ID(stored=True),
            SOURCE_TEXT: fields.TEXT(analyzer=folding, phrase=True),
            ACTOR: fields.ID(),
            ACTOR_TEXT: fields.TEXT(analyzer=folding, phrase=True),
            LANGUAGE: fields.ID(stored=True),
            DATE: fields.ID(stored=True),
            PLACE: fields.ID(),
            META: fields.STORED(),
        },
    )

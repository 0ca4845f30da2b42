"""Language: seeded langdetect on running text, a function-word screen, "und" when unsure."""

import pytest

from index.language import detect_language, running_text, screen

# Short news paragraphs written for these tests, one per language the analysis layer stems.
PARAGRAPHS = {
    "en": "The government said on Tuesday that it would raise taxes on fuel next year, a move "
    "that opposition parties have criticised as a burden on families who drive to work.",
    "de": "Die Bundesregierung hat am Dienstag angekündigt, die Steuern auf Kraftstoff im nächsten "
    "Jahr zu erhöhen. Die Opposition kritisierte den Schritt als Belastung für Familien.",
    "fr": "Le gouvernement a annoncé mardi qu'il augmenterait les taxes sur le carburant l'année "
    "prochaine, une mesure que l'opposition juge trop lourde pour les familles.",
    "es": "El gobierno anunció el martes que subirá los impuestos sobre el combustible el próximo "
    "año, una medida que la oposición considera una carga para las familias.",
    "it": "Il governo ha annunciato martedì che il prossimo anno aumenterà le tasse sul "
    "carburante, una misura che l'opposizione considera un peso per le famiglie.",
    "nl": "De regering heeft dinsdag aangekondigd dat de belasting op brandstof volgend jaar "
    "omhoog gaat, een maatregel die de oppositie een last voor gezinnen noemt.",
    "pt": "O governo anunciou na terça-feira que vai aumentar os impostos sobre os combustíveis no "
    "próximo ano, uma medida que a oposição considera um fardo para as famílias.",
    "ru": "Правительство во вторник объявило, что в следующем году повысит налоги на топливо, и "
    "оппозиция назвала это решение тяжелым бременем для семей.",
}


@pytest.mark.parametrize("lang", sorted(PARAGRAPHS))
def test_news_paragraphs_are_detected(lang):
    assert detect_language(PARAGRAPHS[lang]) == lang


@pytest.mark.parametrize("lang", sorted(PARAGRAPHS))
def test_the_screen_never_contradicts_langdetect(lang):
    assert screen(PARAGRAPHS[lang]) in (None, lang)


@pytest.mark.parametrize(
    "text", ["", "Hello world", "NATO", "12:30 08/10/2014", "Breaking News\nMore"]
)
def test_too_little_text_is_undetermined(text):
    assert detect_language(text) == "und"


def test_a_table_without_running_text_is_undetermined():
    table = (
        "ACME CORP <ACM> YEAR NET\nShr 34 cts vs 1.19 dlrs\n"
        "Net 807,000 vs 2,858,000\nRevs 20.9 mln vs 19.6 mln"
    )
    assert running_text(table) == ""
    assert detect_language(table) == "und"


def test_headlines_do_not_decide_the_language():
    text = "BUNDESREGIERUNG ERHÖHT STEUERN\n\n" + PARAGRAPHS["en"]
    assert detect_language(text) == "en"


def test_detection_is_deterministic():
    text = "Il governo ha deciso. El gobierno decidió. " * 3
    assert len({detect_language(text) for _ in range(5)}) == 1

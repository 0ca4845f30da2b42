"""Month names of the languages Sift stems, for reading datelines and header dates.

Each language lists its month names as they appear in dates: the nominative and, where
the language inflects them in a date, the genitive ("15 мая", "11 listopada"), plus
the abbreviations wire services use ("14 feb", "12 abr"). One table per language so a
language can be checked (and extended) on its own; dates.py matches them all, since a
header's language is not known before the text is read (a German page quotes an English
wire, and short headers fool language detection).
"""

from __future__ import annotations

_BY_LANGUAGE = {
    "en": (
        "january jan|february feb febr|march mar|april apr|may|june jun|july jul|"
        "august aug|september sep sept|october oct|november nov|december dec"
    ),
    "de": (
        "januar jänner jan|februar feb|märz maerz mrz|april apr|mai|juni jun|juli jul|"
        "august aug|september sept sep|oktober okt|november nov|dezember dez"
    ),
    "fr": (
        "janvier janv|février fevrier févr fevr|mars|avril avr|mai|juin|juillet juil|"
        "août aout|septembre sept|octobre oct|novembre nov|décembre decembre déc dec"
    ),
    "es": (
        "enero ene|febrero feb|marzo mar|abril abr|mayo may|junio jun|julio jul|"
        "agosto ago|septiembre setiembre sept sep|octubre oct|noviembre nov|"
        "diciembre dic"
    ),
    "it": (
        "gennaio gen|febbraio feb|marzo mar|aprile apr|maggio mag|giugno giu|luglio lug|"
        "agosto ago|settembre set|ottobre ott|novembre nov|dicembre dic"
    ),
    "pt": (
        "janeiro jan|fevereiro fev|março marco mar|abril abr|maio mai|junho jun|"
        "julho jul|agosto ago|setembro set|outubro out|novembro nov|dezembro dez"
    ),
    "nl": (
        "januari jan|februari feb|maart mrt|april apr|mei|juni jun|juli jul|"
        "augustus aug|september sep sept|oktober okt|november nov|december dec"
    ),
    "pl": (
        "stycznia styczeń styczen sty|lutego luty lut|marca marzec|kwietnia kwiecień "
        "kwiecien kwi|maja maj|czerwca czerwiec cze|lipca lipiec lip|sierpnia sierpień "
        "sierpien sie|września wrzesień wrzesnia wrzesien wrz|października październik "
        "pazdziernika pazdziernik paź|listopada listopad lis|grudnia grudzień grudzien gru"
    ),
    "ru": (
        "января январь янв|февраля февраль фев|марта март мар|апреля апрель апр|"
        "мая май|июня июнь июн|июля июль июл|августа август авг|сентября сентябрь сен "
        "сент|октября октябрь окт|ноября ноябрь нояб ноя|декабря декабрь дек"
    ),
    "uk": (
        "січня січень січ|лютого лютий лют|березня березень бер|квітня квітень квіт|"
        "травня травень трав|червня червень черв|липня липень лип|серпня серпень серп|"
        "вересня вересень вер|жовтня жовтень жовт|листопада листопад лист|грудня грудень груд"
    ),
}


def _table() -> dict[str, int]:
    months: dict[str, int] = {}
    for names in _BY_LANGUAGE.values():
        for number, forms in enumerate(names.split("|"), 1):
            for form in forms.split():
                months[form] = number
    return months


MONTHS = _table()  # every form, lower case -> month number (1-12)

"""Tokens and stems for vocabulary comparison and story clustering (en, ru, hy).

Tokens are words of fold()-ed text (letters only: numbers are handled separately by the
story linker), stemmed with the Snowball stemmer of the article's language, so that
Russian and Armenian case endings do not split one word into six. Stop words are removed
only for clustering; the log-odds comparison keeps them (its prior already discounts them).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import cache, lru_cache

import snowballstemmer

from extract.normalize import fold

STEMMER_NAMES = {"en": "english", "ru": "russian", "hy": "armenian"}
WORD = _WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")

# Short function-word lists: enough to keep TF-IDF from linking articles through "the"
# and "и"; IDF does the rest.
STOPWORDS = {
    "en": set("""a an the and or but if of to in on at by for from with without as is are was
        were be been being has have had do does did not no nor so than that this these those
        it its it's he she they them their his her we our you your i me my who whom which what
        when where why how all any both each few more most other some such only own same too
        very can will just should would could may might must shall about above after again
        against before below between during into through under until up down out over off
        then once here there said says also one two new""".split()),
    "ru": set("""и в во не что он на я с со как а то все она так его но да ты к у же вы за бы
        по только ее её мне было вот от меня еще ещё нет о из ему теперь когда даже ну вдруг ли
        если уже или ни быть был него до вас нибудь опять уж вам ведь там потом себя ничего ей
        может они тут где есть надо ней для мы тебя их чем была сам чтоб без будто чего раз
        тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом
        один почти мой тем чтобы нее сейчас были куда зачем всех никогда можно при наконец два
        об другой хоть после над больше тот через эти нас про всего них какая много разве три
        эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им более
        всегда конечно всю между это также заявил сообщил""".split()),
    "hy": set("""և եւ ու է են էր էին եմ ես ենք եք որ այդ այս այն նա նրա նրանք նրանց իր իրենց
        մենք դուք ինչ ինչպես թե բայց կամ էլ հետ համար մեջ վրա մասին կողմից նաև նաեւ հետո
        առաջ միայն արդեն դեռ ոչ չէ չեն եթե երբ որը որոնք որի որպես մինչ մինչև մինչեւ այլ
        բոլոր մի մեկ երկու ավելի շատ քան ըստ նույն իսկ պետք հայտնել նշել""".split()),
}


def words(text: str) -> list[str]:
    """Folded word tokens (letters, with inner apostrophes and hyphens kept)."""
    return _WORD.findall(fold(text))


@lru_cache(maxsize=200_000)
def stem(word: str, lang: str) -> str:
    """The Snowball stem of a folded word (the word itself for languages without a stemmer)."""
    name = STEMMER_NAMES.get(lang)
    if name is None:
        return word
    return str(_stemmer(name).stemWord(word))


@cache
def _stemmer(name: str) -> snowballstemmer.Stemmer:
    return snowballstemmer.stemmer(name)


def tokenizer_id(lang: str) -> str:
    """A stable description of the tokenizer, stored with every vocabulary run."""
    return f"fold+unicode-words+snowball-{STEMMER_NAMES.get(lang, 'none')}"


def stem_counts(texts: Iterable[str], lang: str, stop: bool = False
                ) -> tuple[Counter[str], dict[str, Counter[str]]]:
    """Stem counts over texts, and for every stem the counts of its surface forms."""
    counts: Counter[str] = Counter()
    surfaces: dict[str, Counter[str]] = {}
    drop = STOPWORDS.get(lang, set()) if stop else set()
    for text in texts:
        for w in words(text):
            if w in drop:
                continue
            s = stem(w, lang)
            counts[s] += 1
            surfaces.setdefault(s, Counter())[w] += 1
    return counts, surfaces


def content_stems(text: str, lang: str) -> list[str]:
    """Stems without stop words or one-letter tokens, for similarity."""
    drop = STOPWORDS.get(lang, set())
    return [stem(w, lang) for w in words(text) if len(w) > 1 and w not in drop]

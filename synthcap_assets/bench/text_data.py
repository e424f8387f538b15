"""Generated text for the bundled multilingual source and for ``synthcap bench text``.

- :func:`multilingual_messages`: a day of customer messages in English, French, German, Spanish
  and Italian (templates with product, quantity and delay slots), labelled by topic, with
  planted exact duplicates (case, punctuation and spacing changed), near duplicates (one word
  changed in a long message), repeats of the previous day's messages, personal data (emails,
  phones, IBANs, card numbers) and the catalog's canary literals. Fully seeded.
- :func:`bench_corpus`: web-page-like English documents where each quality rule of the
  benchmark fails a controlled share of documents, plus planted near-duplicate pairs of known
  character-5-gram Jaccard.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

CANARIES = (
    "canary.zeta@example.org",
    "+44 20 7946 0958",
    "DE89 3704 0044 0532 0130 00",
    "4111 1111 1111 1111",
)
PRODUCTS = {
    "en": ["desk lamp", "coffee grinder", "wireless earbuds", "rain jacket", "space heater"],
    "fr": ["lampe de bureau", "moulin à café", "écouteurs sans fil", "veste de pluie"],
    "de": ["Schreibtischlampe", "Kaffeemühle", "kabellose Kopfhörer", "Regenjacke"],
    "es": ["lámpara de escritorio", "molinillo de café", "auriculares inalámbricos"],
    "it": ["lampada da scrivania", "macinacaffè", "auricolari senza fili", "giacca da pioggia"],
}
TEMPLATES = {
    "delivery": {
        "en": "My {p} was supposed to arrive {d} days ago and the tracking page has not "
        "changed since then. Could you tell me where the parcel is and when it will come?",
        "fr": "Ma commande de {p} devait arriver il y a {d} jours et le suivi n'a pas bougé "
        "depuis. Pouvez-vous me dire où se trouve le colis et quand il sera livré ?",
        "de": "Meine Bestellung {p} sollte vor {d} Tagen ankommen und die Sendungsverfolgung "
        "hat sich seitdem nicht geändert. Wo ist das Paket und wann wird es geliefert?",
        "es": "Mi pedido de {p} debía llegar hace {d} días y el seguimiento no ha cambiado "
        "desde entonces. ¿Pueden decirme dónde está el paquete y cuándo llegará?",
        "it": "Il mio ordine di {p} doveva arrivare {d} giorni fa e il tracciamento non è "
        "cambiato da allora. Potete dirmi dove si trova il pacco e quando arriverà?",
    },
    "refund": {
        "en": "I returned the {p} {d} days ago but I still have not received my refund. "
        "Please check the status of the return and send the money back to my account.",
        "fr": "J'ai renvoyé le produit {p} il y a {d} jours mais je n'ai toujours pas reçu "
        "mon remboursement. Merci de vérifier le retour et de me rembourser.",
        "de": "Ich habe {p} vor {d} Tagen zurückgeschickt, aber die Erstattung ist noch nicht "
        "angekommen. Bitte prüfen Sie die Rücksendung und überweisen Sie das Geld.",
        "es": "Devolví el producto {p} hace {d} días y todavía no he recibido el reembolso. "
        "Por favor revisen la devolución y devuelvan el dinero a mi cuenta.",
        "it": "Ho restituito il prodotto {p} {d} giorni fa ma non ho ancora ricevuto il "
        "rimborso. Per favore controllate il reso e restituite i soldi sul mio conto.",
    },
    "product": {
        "en": "Does the {p} work with the older model I bought {d} years ago? I would like "
        "to know before ordering a second one for my office.",
        "fr": "Est-ce que le produit {p} fonctionne avec l'ancien modèle acheté il y a {d} "
        "ans ? Je voudrais le savoir avant d'en commander un deuxième pour le bureau.",
        "de": "Funktioniert {p} mit dem älteren Modell, das ich vor {d} Jahren gekauft habe? "
        "Ich möchte das wissen, bevor ich ein zweites für das Büro bestelle.",
        "es": "¿El producto {p} funciona con el modelo antiguo que compré hace {d} años? "
        "Quisiera saberlo antes de pedir otro para la oficina.",
        "it": "Il prodotto {p} funziona con il modello vecchio che ho comprato {d} anni fa? "
        "Vorrei saperlo prima di ordinarne un secondo per l'ufficio.",
    },
    "account": {
        "en": "I cannot log in to my account since {d} days, the password reset email never "
        "arrives. I ordered a {p} last week and need to see the invoice.",
        "fr": "Je n'arrive plus à me connecter à mon compte depuis {d} jours, l'email de "
        "réinitialisation n'arrive jamais. J'ai commandé {p} et il me faut la facture.",
        "de": "Ich kann mich seit {d} Tagen nicht mehr anmelden, die E-Mail zum Zurücksetzen "
        "des Passworts kommt nie an. Ich habe {p} bestellt und brauche die Rechnung.",
        "es": "No puedo entrar en mi cuenta desde hace {d} días, el correo para cambiar la "
        "contraseña nunca llega. Pedí {p} la semana pasada y necesito la factura.",
        "it": "Non riesco ad accedere al mio account da {d} giorni, l'email per reimpostare "
        "la password non arriva mai. Ho ordinato {p} e mi serve la fattura.",
    },
}
CONTACT = {
    "en": "You can reach me at {c}.",
    "fr": "Vous pouvez me joindre au {c}.",
    "de": "Sie erreichen mich unter {c}.",
    "es": "Pueden contactarme en {c}.",
    "it": "Potete contattarmi al {c}.",
}
EXTRAS = {
    "en": [
        "I have been a customer for years.",
        "This is the second time this happens.",
        "The box said next day delivery.",
        "My neighbour had the same problem.",
        "I already called twice without an answer.",
        "It was meant as a birthday gift.",
        "The invoice shows the right address.",
        "I paid with the usual card.",
    ],
    "fr": [
        "Je suis client depuis des années.",
        "C'est la deuxième fois que cela arrive.",
        "Le site promettait une livraison rapide.",
        "Mon voisin a eu le même souci.",
        "J'ai déjà appelé deux fois sans réponse.",
        "C'était un cadeau d'anniversaire.",
        "La facture indique la bonne adresse.",
        "J'ai payé avec ma carte habituelle.",
    ],
    "de": [
        "Ich bin seit Jahren Kunde bei Ihnen.",
        "Das passiert jetzt schon zum zweiten Mal.",
        "Auf der Seite stand Lieferung am nächsten Tag.",
        "Mein Nachbar hatte dasselbe Problem.",
        "Ich habe schon zweimal ohne Antwort angerufen.",
        "Es sollte ein Geburtstagsgeschenk sein.",
        "Auf der Rechnung steht die richtige Adresse.",
        "Ich habe mit der üblichen Karte bezahlt.",
    ],
    "es": [
        "Soy cliente desde hace años.",
        "Es la segunda vez que me pasa esto.",
        "La página prometía entrega al día siguiente.",
        "Mi vecino tuvo el mismo problema.",
        "Ya llamé dos veces sin respuesta.",
        "Era un regalo de cumpleaños.",
        "La factura muestra la dirección correcta.",
        "Pagué con la tarjeta de siempre.",
    ],
    "it": [
        "Sono cliente da molti anni.",
        "È la seconda volta che succede.",
        "Il sito prometteva la consegna il giorno dopo.",
        "Il mio vicino ha avuto lo stesso problema.",
        "Ho già chiamato due volte senza risposta.",
        "Era un regalo di compleanno.",
        "La fattura riporta l'indirizzo giusto.",
        "Ho pagato con la solita carta.",
    ],
}
LANGUAGE_MIX = {"en": 0.4, "fr": 0.2, "de": 0.15, "es": 0.15, "it": 0.1}
ROWS = 150
FIRST_DAY = dt.date(2026, 11, 16)


def _contact(rng: np.random.Generator, i: int) -> str:
    kind = rng.integers(4)
    if kind == 0:
        return f"client{i}.{rng.integers(100, 999)}@example.com"
    if kind == 1:
        return f"+33 1 42 68 {rng.integers(10, 99)} {rng.integers(10, 99)}"
    if kind == 2:
        return "FR14 2004 1010 0505 0001 3M02 606"
    return "4532 0151 1283 0366"


def _base_messages(day: dt.date, seed: int) -> list[tuple[str, str, str]]:
    """(language, topic, message) of a day's fresh messages."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(ROWS):
        lang = str(rng.choice(list(LANGUAGE_MIX), p=list(LANGUAGE_MIX.values())))
        topic = str(rng.choice(list(TEMPLATES)))
        product = str(rng.choice(PRODUCTS[lang]))
        first, second = rng.choice(len(EXTRAS[lang]), size=2, replace=False)
        text = " ".join(
            [
                EXTRAS[lang][int(first)],
                TEMPLATES[topic][lang].format(p=product, d=int(rng.integers(2, 40))),
                EXTRAS[lang][int(second)],
            ]
        )
        if rng.random() < 0.12:
            text += " " + CONTACT[lang].format(c=_contact(rng, i))
        out.append((lang, topic, text))
    return out


def _variant(text: str, rng: np.random.Generator) -> str:
    """The same message typed again: case, punctuation and spacing changed."""
    choice = rng.integers(3)
    if choice == 0:
        return text.upper()
    if choice == 1:
        return "  " + text.replace(",", "").replace(".", " .") + "  "
    return text.lower().replace("?", "??")


def _near(text: str, rng: np.random.Generator) -> str:
    """The same message with one word replaced (a near duplicate)."""
    words = text.split(" ")
    k = int(rng.integers(len(words)))
    words[k] = "really" if words[k] != "really" else "truly"
    return " ".join(words)


def multilingual_messages(day: dt.date, seed: int) -> pl.DataFrame:
    """One day of the bundled ``multilingual_messages`` source (module doc)."""
    rng = np.random.default_rng(seed + 1)
    rows = _base_messages(day, seed)
    for _ in range(8):  # exact duplicates of the day's own messages
        lang, topic, text = rows[int(rng.integers(len(rows)))]
        rows.append((lang, topic, _variant(text, rng)))
    for _ in range(8):  # near duplicates
        lang, topic, text = rows[int(rng.integers(ROWS))]
        rows.append((lang, topic, _near(text, rng)))
    if day > FIRST_DAY:  # repeats of the previous day's messages
        previous = _base_messages(day - dt.timedelta(days=1), seed - 1)
        for k in rng.choice(len(previous), size=6, replace=False):
            rows.append(previous[int(k)])
    day_index = (day - FIRST_DAY).days
    canary = CANARIES[day_index % len(CANARIES)]
    rows.append(("en", "account", f"Please update my contact details to {canary} right away."))
    order = rng.permutation(len(rows))
    start = dt.datetime.combine(day, dt.time(6))
    seconds = np.sort(rng.integers(0, 16 * 3600, size=len(rows)))
    return pl.DataFrame(
        {
            "message_id": [f"MSG-{day:%Y%m%d}-{i + 1:04d}" for i in range(len(rows))],
            "received_at": [start + dt.timedelta(seconds=int(s)) for s in seconds],
            "channel": [str(rng.choice(["email", "chat", "form"])) for _ in rows],
            "topic": [rows[int(k)][1] for k in order],
            "message": [rows[int(k)][2] for k in order],
        }
    )


# --- bench corpus: English web-page-like documents with controlled defects -----------------
SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in ("a", "e", "i", "o", "u", "ar", "en")]


def _words(count: int, seed: int, suffix: str = "") -> list[str]:
    """``count`` distinct pronounceable made-up words (2 to 4 syllables), reproducible."""
    rng = np.random.default_rng(seed)
    words: dict[str, None] = {}
    while len(words) < count:
        words["".join(rng.choice(SYLLABLES, size=int(rng.integers(2, 5)))) + suffix] = None
    return list(words)


# A vocabulary large enough that unrelated documents share few character 5-grams.
NOUNS = np.array(_words(3000, 1))
VERBS = np.array(_words(400, 2, "ed"))
ADJECTIVES = np.array(_words(600, 3, "al"))
STOPS = ("the", "of", "and", "to", "with", "that", "have", "be")
_END = (".", ".", ".", "!", "?")


def _pick(rng: np.random.Generator, words: np.ndarray) -> str:
    # Indexing by rng.integers: several times faster than rng.choice on an array.
    return str(words[rng.integers(len(words))])


def _sentence(rng: np.random.Generator, stop_words: bool = True) -> str:
    n = lambda: _pick(rng, NOUNS)  # noqa: E731
    a = lambda: _pick(rng, ADJECTIVES)  # noqa: E731
    v = _pick(rng, VERBS)
    if stop_words:
        s = f"The {a()} {n()} of the {n()} {v} {rng.integers(2, 90)} {n()}s and {a()} {n()}s"
        s += f" that have to be {v} with the {n()}"
    else:
        s = f"{a().title()} {n()} {v} {a()} {n()}s, {a()} {n()}s, {n()} {n()}"
    return s + _END[rng.integers(len(_END))]


def _paragraph(rng: np.random.Generator, sentences: int, stop_words: bool = True) -> str:
    return " ".join(_sentence(rng, stop_words) for _ in range(sentences))


def _document(rng: np.random.Generator) -> str:
    r = rng.random
    stop = r() > 0.06
    if r() < 0.12:  # short document
        return _paragraph(rng, 2, stop)
    lines = [_paragraph(rng, int(rng.integers(1, 4)), stop) for _ in range(int(rng.integers(3, 8)))]
    if r() < 0.1:  # one long line of few sentences
        lines = [_paragraph(rng, int(rng.integers(2, 5)), stop)]
    if r() < 0.06:
        lines = [f"{line} #{_pick(rng, NOUNS)} #{_pick(rng, NOUNS)} #news #{i}" for i, line
                 in enumerate(lines)]  # fmt: skip
    if r() < 0.06:
        lines = [line[: int(len(line) * 0.6)].rstrip(" .!?") + "..." for line in lines]
    if r() < 0.05:
        lines = ["• " + line for line in lines]
    if r() < 0.05:
        lines = [" ".join(f"{rng.integers(10, 9999)} -" for _ in range(12)) + " " + ln
                 for ln in lines]  # fmt: skip
    if r() < 0.08:
        lines = lines + lines[: max(1, len(lines) // 2 + 1)]
    if r() < 0.06:
        phrase = f"{_pick(rng, ADJECTIVES)} {_pick(rng, NOUNS)} {_pick(rng, NOUNS)}"
        lines.append(" ".join([phrase] * int(rng.integers(8, 20))) + ".")
    if r() < 0.08:
        lines = [line.rstrip(".!?") for line in lines]
    if r() < 0.03:
        lines.insert(0, "Lorem ipsum dolor sit amet, consectetur adipiscing elit.")
    if r() < 0.03:
        lines.append('Settings are stored as {"key": "value"} in the file.')
    if r() < 0.06:
        lines += [_pick(rng, NOUNS).title() + "." for _ in range(int(rng.integers(8, 16)))]
    if r() < 0.05:
        lines.append("We use cookies to improve the site, see the privacy policy.")
    return "\n".join(lines)


def _edit_chars(text: str, rng: np.random.Generator, edits: int) -> str:
    chars = list(text)
    for _ in range(edits):
        i = int(rng.integers(len(chars)))
        chars[i] = str(rng.choice(list("abcdefghijklmnopqrstuvwxyz")))
    return "".join(chars)


def bench_corpus(
    docs: int, seed: int = 0, planted_share: float = 0.02
) -> tuple[list[str], np.ndarray]:
    """``docs`` documents (module doc) and the planted near-duplicate pairs (pairs × 2): for a
    ``planted_share`` of the documents a later copy with 1 to 8 characters changed (character
    5-gram Jaccard from about 0.7 to 0.99, so both sides of a 0.9 cut are present)."""
    rng = np.random.default_rng(seed)
    planted = max(1, int(docs * planted_share)) if docs >= 10 else 0
    texts = [_document(rng) for _ in range(docs - planted)]
    pairs = []
    for _ in range(planted):
        original = int(rng.integers(len(texts)))
        texts.append(_edit_chars(texts[original], rng, int(rng.integers(1, 9))))
        pairs.append((original, len(texts) - 1))
    return texts, np.array(pairs, dtype=np.int64).reshape(-1, 2)

"""Generate the bundled sample sources' data files (run once; kept for provenance).

Writes ``synthcap_assets/sample_sources/data/<id>/<YYYY-MM-DD>.csv`` for the four bundled
sources and the three sample days. Everything is seeded, so running it twice with the same
package versions (numpy, faker, polars, statsmodels) gives byte-identical files. The YAML specs
beside the data are written by hand; see ``synthcap_assets/sample_sources/README.md``.

Usage: ``python scripts/make_sample_data.py [output_folder]``
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import polars as pl
from faker import Faker

from synthcap_assets.bench.text_data import multilingual_messages

DAYS = (dt.date(2026, 11, 16), dt.date(2026, 11, 17), dt.date(2026, 11, 18))
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "synthcap_assets/sample_sources/data"

# --- market_prices: fictional tickers, GBM with GARCH(1,1) volatility -------------------------
# ticker: (first open, annual drift, annual volatility, beta to the market factor, mean volume)
TICKERS = {
    "QZK": (142.0, 0.08, 0.22, 0.8, 2_400_000),
    "VXJ": (38.5, 0.15, 0.45, 0.6, 5_100_000),
    "WQP": (311.0, 0.05, 0.18, 0.9, 900_000),
    "JZX": (12.2, 0.02, 0.60, 0.4, 12_000_000),
    "KXQ": (76.0, 0.10, 0.30, 0.7, 3_300_000),
    "ZQV": (205.0, 0.06, 0.25, 0.85, 1_500_000),
}
# NYSE holidays on weekdays in the simulated span, so the bars fall on real trading days.
HOLIDAYS = {
    dt.date(2026, 1, 19), dt.date(2026, 2, 16), dt.date(2026, 4, 3), dt.date(2026, 5, 25),
    dt.date(2026, 6, 19), dt.date(2026, 7, 3), dt.date(2026, 9, 7),
}  # fmt: skip
LOOKBACK = 100
# From this day on volatility is four times higher and a market-wide sell-off hits, so the
# third delivery's newest bars carry a volatility regime change.
REGIME_START = dt.date(2026, 11, 18)
GARCH_ALPHA, GARCH_BETA = 0.08, 0.90


def trading_days(first: dt.date, last: dt.date) -> list[dt.date]:
    days = (first + dt.timedelta(n) for n in range((last - first).days + 1))
    return [d for d in days if d.weekday() < 5 and d not in HOLIDAYS]


def market_bars() -> pl.DataFrame:
    rng = np.random.default_rng(20261116)
    days = trading_days(dt.date(2026, 1, 2), DAYS[-1])
    regime = np.array([d >= REGIME_START for d in days])
    market = rng.standard_normal(len(days))
    rows = []
    for ticker, (price, drift, vol, beta, mean_volume) in TICKERS.items():
        target = vol**2 / 252  # long-run daily variance
        omega = target * (1 - GARCH_ALPHA - GARCH_BETA)
        shocks = beta * market + np.sqrt(1 - beta**2) * rng.standard_normal(len(days))
        noise = rng.standard_normal((len(days), 4))
        var, prev_eps, close = target, 0.0, price
        for t, day in enumerate(days):
            var = omega + GARCH_ALPHA * prev_eps**2 + GARCH_BETA * var
            sigma = np.sqrt(var) * (4.0 if regime[t] else 1.0)
            eps = sigma * shocks[t] - (0.06 if regime[t] else 0.0)
            ret = drift / 252 - 0.5 * sigma**2 + eps
            gap = 0.3 * sigma * noise[t, 0]  # overnight move: part of the day's return
            open_, new_close = close * np.exp(gap), close * np.exp(ret)
            high = max(open_, new_close) * np.exp(0.5 * sigma * abs(noise[t, 1]))
            low = min(open_, new_close) * np.exp(-0.5 * sigma * abs(noise[t, 2]))
            surprise = abs(eps) / np.sqrt(target)
            volume = mean_volume * np.exp(0.3 * noise[t, 3] + 0.25 * surprise - 0.2)
            rows.append((day, ticker, open_, high, low, new_close, int(volume)))
            prev_eps, close = eps, new_close
    frame = pl.DataFrame(
        rows, schema=["date", "ticker", "open", "high", "low", "close", "volume"], orient="row"
    )
    # Rounding is monotone, so low <= open, close <= high still holds after it.
    return frame.with_columns(pl.col("open", "high", "low", "close").round(2)).sort(
        "date", "ticker"
    )


def market_delivery(bars: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """The vendor's lookback-window delivery: the trailing 100 trading days up to ``day``."""
    dates = bars.filter(pl.col("date") <= day)["date"].unique().sort()
    return bars.filter(pl.col("date").is_in(dates.tail(LOOKBACK).implode()))


# --- us_macro: statsmodels macrodata (public domain), one growing vintage per day -------------
MACRO_COLUMNS = ["realgdp", "realcons", "realinv", "cpi", "unemp", "infl", "realint", "m1"]
MACRO_VINTAGE_END = {DAYS[0]: (2008, 1), DAYS[1]: (2008, 4), DAYS[2]: (2009, 3)}


def macro_vintage(day: dt.date) -> pl.DataFrame:
    from statsmodels.datasets import macrodata

    data = pl.from_pandas(macrodata.load_pandas().data)
    year, quarter = MACRO_VINTAGE_END[day]
    data = data.filter(pl.col("year") * 4 + pl.col("quarter") <= year * 4 + quarter)
    # Quarter-end date: the day before the first day of the next quarter.
    next_start = pl.date(
        pl.col("year").cast(pl.Int32) + (pl.col("quarter") == 4).cast(pl.Int32),
        (pl.col("quarter").cast(pl.Int32) % 4) * 3 + 1,
        1,
    )
    return data.select((next_start - pl.duration(days=1)).alias("date"), *MACRO_COLUMNS)


# --- customers: Faker (en_US) customer table with PII ----------------------------------------
# Rough 2020-census populations (millions), so states, a quasi-identifier, skew as in reality.
STATE_POPULATION = (
    "CA:39.5 TX:29.1 FL:21.5 NY:20.2 PA:13.0 IL:12.8 OH:11.8 GA:10.7 NC:10.4 MI:10.1 "
    "NJ:9.3 VA:8.6 WA:7.7 AZ:7.2 MA:7.0 TN:6.9 IN:6.8 MD:6.2 MO:6.2 WI:5.9 CO:5.8 MN:5.7 "
    "SC:5.1 AL:5.0 LA:4.7 KY:4.5 OR:4.2 OK:4.0 CT:3.6 UT:3.3 IA:3.2 NV:3.1 AR:3.0 MS:3.0 "
    "KS:2.9 NM:2.1 NE:2.0 ID:1.8 WV:1.8 HI:1.5 NH:1.4 ME:1.4 RI:1.1 MT:1.1 DE:1.0 SD:0.9 "
    "ND:0.8 AK:0.7 DC:0.7 VT:0.6 WY:0.6"
)
STATE_WEIGHTS = {s: float(w) for s, w in (item.split(":") for item in STATE_POPULATION.split())}
CHANNELS = ["web", "mobile_app", "referral", "store", "partner"]
CUSTOMER_ROWS = {DAYS[0]: 512, DAYS[1]: 487, DAYS[2]: 503}


def customers(day: dt.date, first_id: int, seed: int) -> pl.DataFrame:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = np.random.default_rng(seed)
    n = CUSTOMER_ROWS[day]
    states = list(STATE_WEIGHTS)
    weights = np.array(list(STATE_WEIGHTS.values()))
    channel_p = [0.42, 0.30, 0.12, 0.10, 0.06]
    if day == DAYS[2]:  # a referral campaign starts on the third day
        channel_p = [0.34, 0.26, 0.28, 0.08, 0.04]
    rows = []
    for i in range(n):
        state = str(rng.choice(states, p=weights / weights.sum()))
        zip_code = fake.zipcode_in_state(state)
        age_days = int(rng.integers(18 * 365, 86 * 365))
        orders = int(rng.negative_binomial(2, 0.35))
        value = round(float(orders * rng.lognormal(3.9, 0.6) + rng.gamma(2.0, 8.0)), 2)
        rows.append(
            {
                "customer_id": f"CUS-{first_id + i:06d}",
                "name": fake.name(),
                "email": fake.email(),
                # About 5% of customers gave no phone number.
                "phone": None if rng.random() < 0.05 else fake.phone_number(),
                "address": f"{fake.street_address()}, {fake.city()}, {state} {zip_code}",
                "birth_date": day - dt.timedelta(days=age_days),
                "card_number": fake.credit_card_number(),
                "zip": zip_code,
                "state": state,
                "signup_channel": str(rng.choice(CHANNELS, p=channel_p)),
                "lifetime_value": value,
                "orders": orders,
            }
        )
    return pl.DataFrame(rows, schema_overrides={"phone": pl.String})


# --- support_tickets: templated utterances with intents --------------------------------------
INTENT_MIX = {
    "order_status": 0.18, "refund": 0.12, "cancel_order": 0.10, "change_address": 0.07,
    "payment_issue": 0.10, "delivery_delay": 0.10, "account_access": 0.10,
    "product_question": 0.15, "return_item": 0.08,
}  # fmt: skip
TICKET_ROWS = {DAYS[0]: 412, DAYS[1]: 398, DAYS[2]: 466}
CHANNEL_MIX = {"email": 0.35, "chat": 0.45, "phone": 0.20}
PRIORITIES = ["low", "normal", "high", "urgent"]
URGENT_INTENTS = {"payment_issue", "account_access", "delivery_delay"}
# Tickets arrive mostly in waking hours: relative weight of each hour of the day.
HOUR_WEIGHTS = np.array([1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 9, 9, 9, 9, 8, 8, 8, 7, 7, 6, 4, 3, 2])


# One intent's templates; slots: {product} {days} {amount} {city} {carrier} {when}.
TEMPLATES = {
    "order_status": [
        "Hi, where is my order? I placed it {days} days ago and the tracking page shows nothing.",
        "Can you tell me the status of my order for the {product}?",
        "My order still says 'processing'. When will it ship?",
        "has my {product} shipped yet",
        "I'd like an update on the order I placed {when}, please.",
    ],
    "refund": [
        "I returned the {product} two weeks ago and still haven't received my refund of ${amount}.",
        "Please refund me, the {product} arrived broken.",
        "When will the ${amount} refund show up on my card?",
        "i want my money back for the {product}",
        "You charged me ${amount} for an item that was never delivered. I want a refund.",
    ],
    "cancel_order": [
        "Please cancel my order for the {product}, I ordered it by mistake.",
        "Can I still cancel the order I placed {when}?",
        "cancel my order please, found it cheaper elsewhere",
        "I need to cancel before it ships. How do I do that?",
    ],
    "change_address": [
        "I moved to {city}. Can you change the delivery address on my open order?",
        "Wrong shipping address on my order, it should go to my office in {city}.",
        "how do i update my address",
        "Can the {product} be delivered to a different address than the one on file?",
    ],
    "payment_issue": [
        "My card was declined but I was still charged ${amount}.",
        "I was charged twice for the {product}, please fix this.",
        "The checkout keeps failing with a payment error.",
        "why was my card charged ${amount} when the total said less",
        "Your site won't accept my card, it says 'payment method invalid'.",
    ],
    "delivery_delay": [
        "My package was supposed to arrive {when} and it's still not here.",
        "{carrier} tracking hasn't moved in {days} days. Is my {product} lost?",
        "The delivery is late again. I needed the {product} for this weekend.",
        "still waiting on my delivery, it says delayed",
        "Estimated delivery keeps getting pushed back. What is going on with {carrier}?",
    ],
    "account_access": [
        "I can't log in to my account, the password reset email never arrives.",
        "My account got locked after too many attempts. Please unlock it.",
        "i forgot my password and the reset link is expired",
        "I think someone else logged into my account, I didn't place the last order.",
    ],
    "product_question": [
        "Does the {product} come with a warranty?",
        "Is the {product} compatible with the model I bought last year?",
        "What are the dimensions of the {product}?",
        "is the {product} back in stock",
        "Can you tell me if the {product} works outside the US?",
    ],
    "return_item": [
        "How do I return the {product}? It doesn't fit.",
        "I want to return the {product} I got {when}, can you send a label?",
        "Is the {product} still within the return window? I bought it {days} days ago.",
        "return label please, the {product} is the wrong color",
    ],
}
STORM_TEMPLATES = [
    "Is the winter storm why my {product} is late? Tracking says 'weather delay'.",
    "{carrier} says my package is held due to severe weather. Any new delivery date?",
    "My order is stuck in {city} because of the storm, when will it move?",
]
PRODUCTS = [
    "wireless earbuds", "standing desk", "coffee grinder", "rain jacket", "phone case",
    "air fryer", "office chair", "running shoes", "backpack", "smart watch", "desk lamp",
    "blender", "yoga mat", "monitor", "space heater", "winter boots",
]  # fmt: skip
CARRIERS = ["UPS", "FedEx", "USPS", "the courier"]
WHEN = ["yesterday", "last Monday", "on Friday", "last week", "this morning", "two weeks ago"]
# About 10% of tickets carry PII the way real ones do: an email, a phone number or an order no.
PII_RATE = 0.10
PII_SUFFIXES = [
    " You can reach me at {email}.",
    " My email on the account is {email}",
    " Please call me back at {phone}.",
    " my number is {phone}",
    " Order number {order}.",
    " (order #{order})",
]


def ticket_utterance(intent: str, storm: bool, fake: Faker, rng: np.random.Generator) -> str:
    """One customer utterance for ``intent``; storm-day delay tickets often blame the weather."""
    pool = TEMPLATES[intent]
    if storm and intent == "delivery_delay" and rng.random() < 0.6:
        pool = STORM_TEMPLATES
    text = pool[int(rng.integers(len(pool)))].format(
        product=PRODUCTS[int(rng.integers(len(PRODUCTS)))],
        days=int(rng.integers(2, 15)),
        amount=f"{rng.lognormal(4.0, 0.7):.2f}",
        city=fake.city(),
        carrier=CARRIERS[int(rng.integers(len(CARRIERS)))],
        when=WHEN[int(rng.integers(len(WHEN)))],
    )
    if rng.random() < PII_RATE:
        suffix = PII_SUFFIXES[int(rng.integers(len(PII_SUFFIXES)))]
        text += suffix.format(
            email=fake.email(), phone=fake.phone_number(), order=f"{int(rng.integers(10**7)):07d}"
        )
    return text


def support_tickets(day: dt.date, seed: int) -> pl.DataFrame:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = np.random.default_rng(seed)
    mix = dict(INTENT_MIX)
    if day == DAYS[2]:  # a winter storm: delivery-delay tickets spike on the third day
        mix["delivery_delay"] = 0.32
    intents, p = list(mix), np.array(list(mix.values()))
    n = TICKET_ROWS[day]
    hours = rng.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    seconds = np.sort(hours * 3600 + rng.integers(0, 3600, size=n))
    start = dt.datetime.combine(day, dt.time())
    rows = []
    for i in range(n):
        intent = str(rng.choice(intents, p=p / p.sum()))
        priority_p = [0.1, 0.4, 0.35, 0.15] if intent in URGENT_INTENTS else [0.3, 0.5, 0.15, 0.05]
        rows.append(
            {
                "ticket_id": f"TCK-{day:%Y%m%d}-{i + 1:04d}",
                "created_at": start + dt.timedelta(seconds=int(seconds[i])),
                "channel": str(rng.choice(list(CHANNEL_MIX), p=list(CHANNEL_MIX.values()))),
                "intent": intent,
                "utterance": ticket_utterance(intent, day == DAYS[2], fake, rng),
                "priority": str(rng.choice(PRIORITIES, p=priority_p)),
            }
        )
    return pl.DataFrame(rows)


def write(frame: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path, date_format="%Y-%m-%d", datetime_format="%Y-%m-%dT%H:%M:%S")


def main(out: Path = DEFAULT_OUT) -> None:
    bars = market_bars()
    first_id = 1
    for n, day in enumerate(DAYS):
        write(market_delivery(bars, day), out / "market_prices" / f"{day}.csv")
        write(macro_vintage(day), out / "us_macro" / f"{day}.csv")
        write(customers(day, first_id, seed=7000 + n), out / "customers" / f"{day}.csv")
        first_id += CUSTOMER_ROWS[day]
        write(support_tickets(day, seed=9000 + n), out / "support_tickets" / f"{day}.csv")
        messages = multilingual_messages(day, seed=11000 + n)
        write(messages, out / "multilingual_messages" / f"{day}.csv")
    total = sum(p.stat().st_size for p in out.rglob("*.csv"))
    print(f"wrote {len(list(out.rglob('*.csv')))} files, {total} bytes, under {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)

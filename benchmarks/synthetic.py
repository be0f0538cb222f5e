"""A synthetic news stream for clustering at scale: deterministic, cheap, endless.

    events ──(Poisson starts, ~rate/day articles)──▶ each event: a kind, its own names,
        places and numbers, 1 to ~80 articles from different outlets over hours to days
        ──▶ articles in arrival (``fetched``) order

Each kind of event (flood, trial, merger, ...) has its own sentence templates, so events of
one kind share their vocabulary and differ by who, where and how many. Articles of one event
pick different sentences, some are wire copies of an earlier one (other outlet, its own
sign-off), figures grow as the event develops, and every outlet adds a little furniture.
Names come from syllables (tens of thousands of towns and people), so the stream keeps
bringing new names, as news does. Nothing here comes from real or evaluation text.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pipeline.models import Article

START = datetime(2025, 1, 6, tzinfo=UTC)


def _words(text: str, sep: str | None = None) -> list[str]:
    return text.split(sep)


_ON = _words("ka ri mo len dar vel os tan bri cor ul mes pra hal vin sto gar fen lu tor ad bel "
             "cas dun el fal gri hep ir jor kel lom nar pel quin ros sal tem vor wen")
_END = _words("ford ton ville dale wick burg mont vale holm stad port field more ness via ara "
              "ino ema ora ek is an ov ez")
_FIRST = _words("Ana Ben Clara Dmitri Elif Farid Greta Hugo Ines Jonas Keiko Luca Mira Nadia "
                "Omar Petra Quentin Rosa Sami Tomas Uma Viktor Wanda Xavier Yara Zoran Alma "
                "Bruno Celia Dario Edith Felix Gloria Henrik Ilse Jamal Kira Leon Marta Nils "
                "Olga Pavel Rita Stefan Talia Ugo Vera Walter")
_ORG = _words("Water Authority|Transit Board|Holdings|Medical Centre|Police Department|"
              "University|Power Company|Chamber of Commerce|Football Club|Port Authority|"
              "Mining Group|Bank", "|")
_PLACES = _words("Bridge Street Hospital School Square Station Park Road Market Harbour")
_ROLES = (
    "spokesperson",
    "resident",
    "councillor",
    "witness",
    "engineer",
    "shop owner",
    "professor",
    "union official",
)
# Attributions that tie a sentence with no name of its own to the event.
_TAILS = (
    ", said {C}, a {role} in {P}.",
    ", according to {C}.",
    " near the {L}.",
    ", {C} told {S}.",
    " in {P}, {B} said.",
)
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# Kind → (titles, body sentences). Slots: {P} place, {R} region, {A}/{a} a person (full/last
# name), {B} and {C} others ({role}), {O} an organisation, {L} a landmark, {n1} {n2} {n3}
# numbers, {D} a weekday, {S} the outlet.
KINDS: dict[str, tuple[list[str], list[str]]] = {
    "flood": (
        [
            "Floods force {n1} families from homes in {P}",
            "{P} under water as river bursts its banks",
            "Rescue crews reach stranded residents in flooded {P}",
        ],
        [
            "Heavy rain sent the river over its banks in {P} on {D}, forcing {n1} families "
            "to leave their homes.",
            "Mayor {A} said the town hall would stay open overnight as an emergency shelter.",
            "Water reached the first floor of houses near the old bridge, residents said.",
            "The {O} warned that levels could rise again before the weekend.",
            "About {n2} people spent the night in school gyms across {R}.",
            "{a} asked drivers to avoid the valley road until the water recedes.",
            "Forecasters expect another {n3} millimetres of rain in the hills above {P}.",
            "Volunteers filled sandbags outside the fire station through the night.",
            "Insurers said claims from the {R} floods could take months to settle.",
        ],
    ),
    "quake": (
        [
            "Magnitude {n3}.{n2} earthquake shakes {P}",
            "Earthquake near {P} damages buildings, {n1} injured",
            "Aftershocks rattle {P} a day after strong quake",
        ],
        [
            "An earthquake of magnitude {n3}.{n2} struck near {P} early on {D}, the "
            "seismology service said.",
            "At least {n1} people were hurt, most by falling glass and masonry.",
            "{A}, who heads the regional civil protection office, said teams were checking "
            "schools and bridges.",
            "The tremor was felt as far away as the coast of {R}.",
            "Several older buildings in the centre of {P} were cordoned off.",
            "{a} said there had been more than {n2} aftershocks since the main quake.",
            "Power was cut to parts of the town and restored by the evening.",
            "Residents slept in cars and tents, fearing further shocks.",
        ],
    ),
    "trial": (
        [
            "{A} trial opens in {P} court",
            "Jury hears closing arguments in {a} fraud case",
            "{a} found guilty on {n3} counts, faces sentencing",
        ],
        [
            "The trial of {A}, a former executive at the {O}, opened in {P} on {D}.",
            "Prosecutors say {a} diverted about {n1} thousand in company funds over several years.",
            "Defence lawyer {B} told the jury that her client had acted on legal advice.",
            "The judge said the case was expected to last {n2} days.",
            "Witnesses are due to include two former directors of the {O}.",
            "{a} denies all {n3} charges against him.",
            "Outside the courthouse, {B} said the evidence was circumstantial.",
            "If convicted, {a} could face up to {n2} years in prison.",
        ],
    ),
    "merger": (
        [
            "{O} agrees to buy rival in {n1} million deal",
            "Shares jump as {O} confirms takeover talks",
            "Regulators to review {O} merger",
        ],
        [
            "The {O} said on {D} it had agreed to acquire a smaller rival for {n1} million.",
            "Chief executive {A} said the deal would create the largest group in {R}.",
            "Shares in the {O} rose {n3} percent in early trading.",
            "The combined company would employ about {n2} people, mostly in {P}.",
            "Analysts said competition authorities were likely to examine the deal closely.",
            "{a} told investors that cost savings would reach {n3} million a year.",
            "Unions asked for guarantees that no jobs would be cut in {P}.",
            "The transaction is expected to close within {n3} months.",
        ],
    ),
    "election": (
        [
            "{A} wins mayoral race in {P}",
            "Voters in {P} go to the polls in tight contest",
            "{a} concedes as count ends in {P}",
        ],
        [
            "Voters in {P} chose a new mayor on {D}, with turnout of {n3} percent.",
            "{A} won {n1} votes, ahead of the incumbent {B}.",
            "{a} promised to fix the roads and build {n2} affordable homes.",
            "In a short speech, {B} congratulated the winner and thanked volunteers.",
            "The result makes {a} the first mayor from the district in decades.",
            "Election officials in {R} said counting had gone smoothly.",
            "Several polling stations in {P} stayed open late because of queues.",
            "The new council will be sworn in next month.",
        ],
    ),
    "fire": (
        [
            "Wildfire near {P} forces evacuations",
            "Firefighters battle blaze in hills above {P}",
            "Wildfire destroys {n2} homes in {R}",
        ],
        [
            "A wildfire burning in dry scrub above {P} had spread over {n1} hectares by {D}.",
            "Fire chief {A} said strong winds were pushing the flames toward the valley.",
            "Residents of {n2} streets were told to leave immediately.",
            "Water-bombing aircraft from across {R} joined the effort.",
            "{a} said crews had saved the school but several barns were lost.",
            "The cause of the fire is under investigation.",
            "Smoke closed the highway between {P} and the coast for several hours.",
            "Temperatures of {n3} degrees are forecast for the rest of the week.",
        ],
    ),
    "crash": (
        [
            "Train derails near {P}, {n3} hurt",
            "Bus crash on mountain road near {P} kills {n3}",
            "Investigators examine cause of {P} rail accident",
        ],
        [
            "A passenger train left the tracks near {P} on {D}, injuring {n3} people.",
            "The train was carrying about {n1} passengers, the {O} said.",
            "{A}, a passenger, said the carriage tipped slowly onto its side.",
            "Ambulances from across {R} took the injured to hospital.",
            "Investigators will examine the signals and the condition of the track.",
            "{a} described scenes of people helping each other out of the windows.",
            "Services between {P} and the capital are suspended until further notice.",
            "The line was last inspected {n2} days before the accident, officials said.",
        ],
    ),
    "strike": (
        [
            "Transit workers walk out in {P}",
            "Strike halts buses and trams across {P}",
            "{O} and unions reach deal to end strike",
        ],
        [
            "Bus and tram drivers in {P} began a {n3}-day strike on {D} over pay.",
            "Union leader {A} said members had rejected an offer of {n3} percent.",
            "The {O} said it had run only {n2} of its usual services.",
            "Commuters queued for taxis and shared rides into the centre.",
            "{a} said talks could resume if management improved its offer.",
            "Schools in {R} told pupils to allow extra time for the journey.",
            "About {n1} workers are covered by the contract under dispute.",
            "The last strike on the network was two years ago.",
        ],
    ),
    "storm": (
        [
            "High winds batter {R} as storm {a} arrives",
            "Thousands without power as storm hits {P}",
            "Storm damage across {R}: roofs torn off in {P}",
        ],
        [
            "The storm brought gusts of up to {n2} kilometres per hour to {R} on {D}.",
            "About {n1} homes around {P} lost power overnight.",
            "Forecaster {A} said the worst of the winds would pass by the afternoon.",
            "Fallen trees blocked roads and a roof was torn from a warehouse in {P}.",
            "Ferry crossings were cancelled and schools closed for the day.",
            "The {O} said crews would work through the night to restore supply.",
            "Coastal paths were closed as waves topped the sea wall.",
            "{n3} people were treated for minor injuries, hospitals said.",
        ],
    ),
    "outbreak": (
        [
            "Health officials investigate illness cluster in {P}",
            "{n3} cases of food poisoning linked to {P} festival",
            "Outbreak in {P} traced to water supply",
        ],
        [
            "Health officials in {R} are investigating {n3} cases of stomach illness in {P}.",
            "Dr {A} of the {O} said samples had been sent for testing.",
            "Residents were advised to boil tap water until further notice.",
            "{a} said most patients had mild symptoms and recovered within days.",
            "The cases were reported over the past {n2} days.",
            "Restaurants near the market square were visited by inspectors.",
            "About {n1} households were sent letters explaining the precautions.",
            "Officials expect test results by the end of the week.",
        ],
    ),
    "match": (
        [
            "{P} beat rivals {n3}-{n2} in derby",
            "Late goal gives {P} win over league leaders",
            "{a} scores twice as {P} reach cup final",
        ],
        [
            "{P} won the derby {n3}-{n2} in front of {n1} fans on {D}.",
            "{A} scored twice in the second half, the second from a free kick.",
            "Coach {B} said the team had shown character after a slow start.",
            "The result lifts {P} to third place in the {R} league.",
            "The visitors had a goal ruled out for offside shortly before half-time.",
            "{a} was substituted late on with a minor knee injury.",
            "The two sides meet again in the cup next month.",
            "Tickets for the final are expected to sell out within hours.",
        ],
    ),
    "protest": (
        [
            "Thousands march in {P} against plant closure",
            "Protesters block roads in {P} over housing costs",
            "{P} protest ends peacefully after talks",
        ],
        [
            "Several thousand people marched through {P} on {D} to oppose the closure "
            "of the {O} plant.",
            "Organiser {A} said {n1} jobs were at stake in the town.",
            "Police estimated the crowd at {n2}, organisers at twice that.",
            "Marchers carried banners and stopped outside the regional assembly of {R}.",
            "{a} said the protest would continue every week until the decision was reversed.",
            "The {O} said the plant had lost money for {n3} years.",
            "Shops along the route closed early as a precaution.",
            "Regional minister {B} agreed to meet a delegation next week.",
        ],
    ),
}
# Furniture any outlet may add: the context lines of a story, and the outlets' sign-offs.
_CONTEXT = [
    "Officials did not immediately respond to requests for comment.",
    "This is a developing story and will be updated.",
    "Additional reporting by {a} in {P}.",
    "The figures could not be independently verified.",
    "Local media had reported the news earlier in the day.",
]
_SIGNOFF = [
    "Follow {S} for the latest updates.",
    "Copyright {S}. All rights reserved.",
    "Sign up for the {S} morning briefing.",
    "{S} newsroom, with agency reports.",
    "",
]


@dataclass
class _Event:
    kind: str
    slots: dict[str, str]
    start: float
    number: int
    picked: list[str] = field(default_factory=list)  # bodies written so far (for wire copies)


class NewsStream:
    """Articles in arrival order: ``NewsStream(seed).articles(n)``."""

    def __init__(self, seed: int = 7, per_day: float = 3000.0, sources: int = 300) -> None:
        self.rng = random.Random(seed)
        self.per_day = per_day
        self.sources = [f"{self._word()}-{self._word()}.example" for _ in range(sources)]
        self._mean_size = 5.3  # articles per event, on average (see _size)
        self._events = 0

    def _word(self) -> str:
        rng = self.rng
        return "".join(rng.choice(_ON) for _ in range(rng.randint(1, 2))) + rng.choice(_END)

    def _person(self) -> tuple[str, str]:
        last = self._word().capitalize()
        return f"{self.rng.choice(_FIRST)} {last}", last

    def _size(self) -> int:
        """Articles in an event: many single reports, a long tail of big stories."""
        return min(80, max(1, int(self.rng.lognormvariate(1.0, 1.1))))

    def _event(self, start: float) -> tuple[_Event, list[float]]:
        rng = self.rng
        kind = rng.choice(list(KINDS))
        full, last = self._person()
        other, _ = self._person()
        third, _ = self._person()
        place = self._word().capitalize()
        slots = {
            "P": place,
            "R": self._word().capitalize(),
            "A": full,
            "a": last,
            "B": other,
            "C": third,
            "role": rng.choice(_ROLES),
            "L": f"{self._word().capitalize()} {rng.choice(_PLACES)}",
            "O": f"{place} {rng.choice(_ORG)}",
            "n1": str(rng.randint(20, 9000)),
            "n2": str(rng.randint(2, 400)),
            "n3": str(rng.randint(2, 9)),
            "D": rng.choice(_DAYS),
        }
        span = 3600 * rng.lognormvariate(2.5, 1.0)  # hours to days, a few weeks at most
        times = sorted(start + span * rng.random() ** 2 for _ in range(self._size()))
        self._events += 1
        return _Event(kind, slots, start, self._events), times

    def _article(self, event: _Event, at: float, serial: int) -> Article:
        rng = self.rng
        source = rng.choice(self.sources)
        titles, body = KINDS[event.kind]
        slots = dict(event.slots, S=source.split(".")[0].replace("-", " ").title())
        if event.picked and rng.random() < 0.2:  # a wire copy of an earlier report
            text = rng.choice(event.picked)
        else:
            if len(event.picked) > 2 and rng.random() < 0.3:  # the figures move on
                event.slots["n1"] = str(int(event.slots["n1"]) + rng.randint(1, 40))
                slots["n1"] = event.slots["n1"]
            lines = rng.sample(body, rng.randint(4, min(7, len(body))))
            lines += rng.sample(_CONTEXT, rng.randint(0, 2))
            lines = [line if "{" in line else line[:-1] + rng.choice(_TAILS) for line in lines]
            text = "\n\n".join(line.format(**slots) for line in lines)
            event.picked.append(text)
        signoff = rng.choice(_SIGNOFF).format(**slots)
        url = f"https://{source}/{event.kind}/{event.number}/{serial}"  # gold label inside
        published = datetime.fromtimestamp(at, UTC)
        return Article.model_construct(
            id=hashlib.sha256(url.encode()).hexdigest()[:20],
            url=url,
            source=source,
            title=rng.choice(titles).format(**slots),
            text=text + "\n\n" + signoff,
            published=published,
            fetched=published + timedelta(minutes=rng.uniform(1, 30)),
            author=None,
            lang="en",
            feed_url=None,
            site_name=None,
            canonical_url=None,
        )

    def articles(self, n: int) -> Iterator[Article]:
        """The first ``n`` articles of the stream, in publication order (fetched soon after)."""
        rng = self.rng
        gap = 86400.0 * self._mean_size / self.per_day  # mean seconds between event starts
        pending: list[tuple[float, int, _Event]] = []
        clock, serial, order = START.timestamp(), 0, 0
        while serial < n:
            while not pending or pending[0][0] >= clock:
                event, times = self._event(clock)
                for at in times:
                    heapq.heappush(pending, (at, order, event))
                    order += 1
                clock += rng.expovariate(1.0 / gap)
            at, _, event = heapq.heappop(pending)
            yield self._article(event, at, serial)
            serial += 1

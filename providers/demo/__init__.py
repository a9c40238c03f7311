"""Demo providers, personal assistants and offers across Scotland, so every page shows a
realistic market, with the gaps a real one has.

Design. A fixed seed (DEMO_SEED) drives one `random.Random`, so every load plans the same
providers. Planning is pure (settlements and postcode districts in, plans out) and writing
goes through the same services as real sign-ups, so demo data obeys the same rules:

- Home. Each provider's home settlement is drawn with probability proportional to its
  population times a factor of its 8-fold urban-rural class (HOME_WEIGHT): 1 in the
  cities and towns, down to 0.12 in very remote rural places. Supply is dense in the
  central belt and thin in remote places and on islands, as GEOGRAPHY.md section 3
  describes, so the gap analysis finds real gaps. The base is the home place; in a town
  of 10,000+ radius offers are measured from the postcode district nearest to a point
  jittered around its centre (sigma 1.5 km plus 4 km x sqrt(population / 600,000)).
- Reach. Radius by the 6-fold class of home, as in GEOGRAPHY.md section 3: 5-15 km in
  urban areas, 10-25 km in accessible small towns and rural areas, 20-40 km where remote.
  Community groups often list the villages they serve instead; some city registered
  providers cover their whole council area.
- Offers. Kinds of support, outcomes and client groups (taxonomy codes) by the kind of
  provider; prices in integer pence: personal assistants GBP 15-22 an hour, organisations
  GBP 20-32, some by the session or day at that rate, some by the night (sleepovers at a
  flat rate below it), with evening, weekend and public-holiday uplifts, travel charges,
  and a management fee only for ISF holders.
- Life. Availability masks, capacity in hours a week confirmed up to 150 days ago (some
  older than 30 days, so "stale" shows), some offers paused or left as drafts; checks
  (PVG, Care Inspectorate with grades, insurance in force, training), some verified by
  the demo administrator, the rest declared.

Generated providers are listings nobody signs in to (they have no members); their names,
addresses and numbers are made up (example.org addresses, Ofcom's drama numbers)."""

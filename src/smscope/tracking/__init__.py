"""Click tracking (SPEC §5.3): links of a campaign's text become short tracked links,
one per recipient, whose redirect records the click.

:mod:`~smscope.tracking.links` finds links and rewrites texts (pure),
:mod:`~smscope.tracking.tokens` makes and checks the signed tokens (pure),
:mod:`~smscope.tracking.store` keeps the secret and the campaigns' numbered links and
rewrites a campaign's text per recipient, and :mod:`~smscope.tracking.clicks` follows
a token and records its click. The redirect endpoint is :mod:`smscope.web.tracking`.
"""

"""Contact-center figures: service level, waiting, handling, abandonment, occupancy (issue 13).

``formulas`` holds the definitions (pure), ``live`` the running counters of the wallboard, ``reports`` the
SQL reports, ``service`` ties them to call events, ``notifier`` builds every payload. See ``README.md``.
"""

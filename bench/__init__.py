"""Benchmarks for the PunchOutSetupRequest path, run with `python -m bench` (`make bench`).

A punchout is the one request a buyer waits on: their procurement system posts the document and
the user sits in front of a spinner until the StartPage URL comes back, often after a Lambda cold
start. So the figures that matter are: how many AWS round trips a request makes, how long the
handler modules take to import, and how much the handler adds on top of the unavoidable work
(parse the document, read the integration, write the session). Each figure is printed with its
target; the benchmark reports, it does not gate (exit status 0 whatever the verdicts).
"""

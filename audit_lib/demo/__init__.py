"""Generators of demo and benchmark logs: the bundled samples and large corpora (`sampledata`) and a realistic
estate of nodes over months (`estate`)."""

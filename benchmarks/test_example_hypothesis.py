"""A new hypothesis in a few lines: the worked example of the README and docs/how-to/add-a-hypothesis.md.

"The net draws a ring of the right size": the circle fitted to the net's black
pixels has the true ring's radius (to 2 % of the image width) at 5000 points,
while the Fourier-feature net, which fits its points exactly, does not.
Uses the profile's cached runs, so it costs no training beyond the suite's.
"""

import pytest

from genprobe import claims


@pytest.mark.claim("right-size")
def test_net_draws_a_ring_of_the_right_size(probe):
    end = probe.profile.epochs
    probe.check(
        lambda g: claims.threshold(g.net(5000), "circle_radius_error", "<=", 0.02, claim="right-size", end_epoch=end)
    )

    # every claim needs a control that fails it
    probe.check(
        lambda g: claims.threshold(g.fourier(312), "circle_radius_error", "<=", 0.02, claim="right-size"), "fails"
    )

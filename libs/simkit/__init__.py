"""What the two mail simulators (libs/graphsim, libs/gmailsim) share: serving over HTTPS on a
bound socket, in the foreground or in a thread (:mod:`libs.simkit.serving`), the fault
knobs and request counts every provider's simulator has (:mod:`libs.simkit.faults`), and the
control API's error answers and JSON bodies (:mod:`libs.simkit.control`).

It knows neither provider: each simulator builds on it with its own routes, errors and limits.
"""

"""What the two mail simulators (libs/graphsim, libs/gmailsim) share: serving over HTTPS on a
bound socket, in the foreground or in a thread (:mod:`libs.simkit.serving`), and the fault
knobs and request counts every provider's simulator has (:mod:`libs.simkit.faults`).

It knows neither provider: each simulator builds on it with its own routes, errors and limits.
"""

"""The notification endpoint's pure parts: what a notification says, whether to pass it on."""

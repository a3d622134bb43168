"""Fetching what a client points the gateway at (image URLs), guarded against private addresses.

Not Cloudflare, so not under `upstream/`: `addresses` says which addresses may be reached (pure),
`guard` resolves names and keeps only those (`convert.sniff` tells an image by its leading bytes), `images`
fetches one image URL within the settings' bounds.
"""

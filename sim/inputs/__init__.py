"""Inputs: reading and validating every file a drill is made of (YAML with lines, units, catalogs).

Imports nothing else of ``sim``; everything below trusts what these loaders return.
"""

"""A stand-in of Crans' old theme package (the site of 2021-2026), for the replica test."""

from setuptools import setup

setup(
    name="mailman-crans-theme",
    version="0.1.0",
    packages=["mailman_crans_theme"],
    package_data={"mailman_crans_theme": ["templates/*/*.html"]},
)

"""A stand-in of Crans' old provider package (the site of 2021-2026), for the replica test."""

from setuptools import setup

setup(
    name="allauth-cas-crans",
    version="0.1.0",
    packages=["allauth_cas_crans"],
    install_requires=["django-allauth-cas"],
)

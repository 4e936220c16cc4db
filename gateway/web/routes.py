"""Routes of the outlet front end (being built)."""

from fastapi import APIRouter

router = APIRouter()

"""REST routes for the resources (numbers, SIM stock, customers, operators, channels)."""

from fastapi import APIRouter

router = APIRouter()

"""__DESCRIPTION__"""

package main

const sysKcmp = 272

package main

const sysKcmp = 312

@main enum WireFuzz { static func main() {} }

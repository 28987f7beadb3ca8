import ResonanceRopeCore
print("placeholder")

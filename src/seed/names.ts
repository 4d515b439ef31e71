/**
 * Name and place lists for generated people. Deliberately international and
 * including diacritics and apostrophes, because name search, sorting and
 * identifier derivation must cope with real-world names, not just "John Smith".
 */
export const FEMALE_FIRST_NAMES = [
  'Abigail', 'Aisha', 'Alejandra', 'Amara', 'Amelia', 'Ana', 'Anjali', 'Astrid', 'Beatriz', 'Camille',
  'Charlotte', 'Chiara', 'Chloé', 'Daniela', 'Eleanor', 'Elena', 'Elif', 'Emily', 'Emma', 'Fatima',
  'Freya', 'Grace', 'Hannah', 'Hana', 'Ingrid', 'Isabella', 'Jia', 'Julia', 'Kaitlyn', 'Keiko',
  'Laila', 'Lucía', 'Maeve', 'Maria', 'Maya', 'Mei', 'Mia', 'Nadia', 'Naomi', 'Nia',
  'Olivia', 'Priya', 'Rachel', 'Rosa', 'Sakura', 'Sarah', 'Siobhán', 'Sofia', 'Sophie', 'Yasmin',
  'Zainab', 'Zoë',
] as const;

export const MALE_FIRST_NAMES = [
  'Aarav', 'Adam', 'Ahmed', 'Alexander', 'Andrés', 'Arjun', 'Benjamin', 'Carlos', 'Chen', 'Daniel',
  'David', 'Diego', 'Dmitri', 'Elijah', 'Emre', 'Ethan', 'Felix', 'François', 'Gabriel', 'Hiroshi',
  'Ibrahim', 'Isaac', 'Jakob', 'James', 'Javier', 'Jin', 'José', 'Kwame', 'Liam', 'Lucas',
  'Łukasz', 'Malik', 'Marco', 'Mateo', 'Matthew', 'Michael', 'Mohammed', 'Niall', 'Noah', 'Oliver',
  'Omar', 'Pedro', 'Rahul', 'Samuel', 'Santiago', 'Sebastian', 'Søren', 'Takeshi', 'Thomas', 'Wei',
  'William', 'Yusuf',
] as const;

/** Short or familiar forms used as preferred first names. */
export const PREFERRED_FIRST_NAMES: Readonly<Record<string, string>> = {
  Abigail: 'Abby', Alexander: 'Alex', Benjamin: 'Ben', Charlotte: 'Charlie', Daniel: 'Dan', Daniela: 'Dani',
  Eleanor: 'Nora', Elijah: 'Eli', Isabella: 'Bella', James: 'Jim', Jakob: 'Jake', Kaitlyn: 'Kate',
  Matthew: 'Matt', Michael: 'Mike', Mohammed: 'Mo', Samuel: 'Sam', Santiago: 'Santi', Sebastian: 'Seb',
  Sofia: 'Sofi', Thomas: 'Tom', William: 'Will', Olivia: 'Liv', Alejandra: 'Ale', Dmitri: 'Dima',
};

export const MIDDLE_NAMES = [
  'Anne', 'Marie', 'Grace', 'Louise', 'Jane', 'Rose', 'James', 'Lee', 'Michael', 'John', 'Alexander', 'Ray', 'Kai', 'Noor',
] as const;

export const LAST_NAMES = [
  'Abara', 'Adeyemi', 'Ahmed', 'Andersen', 'Bakker', 'Bauer', 'Bianchi', 'Brown', 'Castillo', 'Chen',
  'Chowdhury', 'Costa', 'Dubois', 'Dunn', 'Eriksson', 'Fernández', 'Fischer', 'Garcia', 'Gonzalez', 'Gupta',
  'Haddad', 'Hansen', 'Harris', 'Hernández', 'Ivanova', 'Jackson', 'Jensen', 'Johnson', 'Kaur', 'Kelly',
  'Kim', 'Kowalski', 'Kumar', 'Larsen', 'Lee', 'Li', 'López', 'Martin', 'Martínez', 'Mensah',
  'Müller', 'Murphy', 'Nakamura', 'Nguyen', "O'Brien", "O'Connor", 'Okafor', 'Olsen', 'Park', 'Patel',
  'Perez', 'Petrov', 'Quinn', 'Ramírez', 'Rossi', 'Sánchez', 'Santos', 'Schmidt', 'Shah', 'Silva',
  'Singh', 'Smith', 'Suzuki', 'Tanaka', 'Taylor', 'Thompson', 'Tran', 'Van der Berg', 'Walker', 'Wang',
  'Weber', 'Williams', 'Wilson', 'Wójcik', 'Yamamoto', 'Yilmaz', 'Young', 'Zhang',
] as const;

export const STREETS = [
  'Maple Avenue', 'Oak Street', 'College Road', 'University Drive', 'Elm Street', 'Library Lane', 'Cedar Court',
  'Harbor View', 'Mill Road', 'Park Place', 'Chestnut Street', 'Willow Way', 'Quarry Lane', 'Commonwealth Avenue',
] as const;

export const CITIES = [
  { city: 'Springfield', state: 'MA', postal: '011' },
  { city: 'Cambridge', state: 'MA', postal: '021' },
  { city: 'Burlington', state: 'VT', postal: '054' },
  { city: 'Providence', state: 'RI', postal: '029' },
  { city: 'Hartford', state: 'CT', postal: '061' },
  { city: 'Albany', state: 'NY', postal: '122' },
  { city: 'Portland', state: 'ME', postal: '041' },
] as const;

export const AREA_CODES = ['413', '617', '802', '401', '860', '518', '207'] as const;

/** Lower-case ASCII letters only: for identifiers and mailboxes derived from a name. */
export function slug(name: string): string {
  return name
    .replace(/[łŁ]/g, 'l')
    .replace(/[øØ]/g, 'o')
    .replace(/ß/g, 'ss')
    .normalize('NFD')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
}

// x1deploy doctor: the set-up checked end to end.
export { runDoctor, type CheckOutcome, type DoctorCheck, type DoctorPorts } from './doctor.js';
